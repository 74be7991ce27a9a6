/* Temporary stubs: none left (cmd_check.c and cmd_api.c replaced them); delete this file. */
#include "base/common.h"
#include "cli/commands.h"
