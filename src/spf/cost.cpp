#include <sendcheck/spf/cost.hpp>
