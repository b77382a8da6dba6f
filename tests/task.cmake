# util::Task machinery beyond the basics in test_util: tasks started ahead of their await (util::start).
sendcheck_unit_test(task MODULES util)
