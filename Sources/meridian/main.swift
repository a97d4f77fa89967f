import HubCLI

await MeridianCommand.runFromCommandLine()
