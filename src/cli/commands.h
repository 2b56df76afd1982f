// SPDX-License-Identifier: Apache-2.0
// The subcommands. Each takes the arguments after its name, returns the exit status (ExitCode)
// and throws Error / UsageError for main() to print.
#pragma once

#include <string>
#include <vector>

namespace qkcli {

using Argv = std::vector<std::string>;

int cmd_pack(const Argv& args);
int cmd_info(const Argv& args);
int cmd_verify(const Argv& args);
int cmd_unpack(const Argv& args);
int cmd_diff(const Argv& args);
int cmd_quantize(const Argv& args);
int cmd_run(const Argv& args);

// Help texts (printed by --help and `qk help CMD`).
extern const char* const kPackHelp;
extern const char* const kInfoHelp;
extern const char* const kVerifyHelp;
extern const char* const kUnpackHelp;
extern const char* const kDiffHelp;
extern const char* const kQuantizeHelp;
extern const char* const kRunHelp;

}  // namespace qkcli
