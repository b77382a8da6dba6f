#include <sendcheck/spf/lint.hpp>
