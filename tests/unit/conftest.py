"""Pure functions of core and model: no processes, no files outside tmp_path, no clock."""
