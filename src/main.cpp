#include <sendcheck/cli/app.hpp>

int
main(int argc, char** argv)
{
  return sendcheck::cli::tool_main(argc, argv);
}
