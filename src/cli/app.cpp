#include <sendcheck/cli/app.hpp>

#include <sendcheck/version.hpp>

#include <cstdio>

namespace sendcheck::cli {

int
tool_main(int /*argc*/, char** /*argv*/)
{
  std::printf("sendcheck %s\n", k_version);
  return static_cast<int>(ExitCode::ok);
}

} // namespace sendcheck::cli
