/**
 * The `zkdl` program (bin/zkdl.js runs this file through tsx): the command tables of the run commands
 * (cli/run-commands.ts: train, verify, inspect) and of the chain (cli/chain-commands.ts: deploy,
 * publish, relay, attest, serve, outbox, check, demo), then the arguments parsed and the command run.
 * Loading is lazy: the tables load commander alone, and a command's action requires its implementation
 * (cli/actions/*, cli/demo.ts) when it runs — `zkdl --help` loads nothing of the protocol, `zkdl
 * verify` nothing of the chain, the server or the store. Exit codes (cli/exit.ts): 0 success; 1 a run
 * that does not verify, a check or job that fails; 2 bad input (one line); 70 a bug (with its stack).
 */
import { Command, CommanderError } from "commander";
import { addChainCommands } from "./chain-commands";
import { EXIT, bug } from "./exit";
import { addRunCommands } from "./run-commands";

export function zkdlProgram(): Command {
  const program = new Command()
    .name("zkdl")
    .description("Zero-knowledge proofs of deep-learning training (zkDL), checked against an on-chain registry.")
    .showHelpAfterError()
    // A bad flag or argument is bad input (exit 2); commander has printed why. Set before the
    // commands are added, which inherit it.
    .exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? EXIT.ok : EXIT.input))
    .addHelpText(
      "after",
      "\nExit codes: 0 success; 1 a run that does not verify, or a check or job that fails; 2 bad input (a missing or\n" +
        "malformed file, a bad flag or setting: one line on stderr); 70 an internal error, a bug in zkdl (its stack on stderr).",
    );
  addRunCommands(program);
  addChainCommands(program);
  return program;
}

zkdlProgram().parseAsync(process.argv).catch(bug);
