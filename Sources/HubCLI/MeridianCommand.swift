import ArgumentParser
import HubServer

/// `meridian`: the root command. Subcommands do the work; `--version` prints the version.
public struct MeridianCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "meridian",
        abstract: "Meridian: a self-hosted IoT hub and MQTT broker.",
        version: MeridianVersion.current,
        subcommands: [
            ServeCommand.self, DeviceCommand.self, PolicyCommand.self, CACommand.self, UserCommand.self, MethodCommand.self, TwinCommand.self,
            QueryCommand.self, C2DCommand.self, MonitorCommand.self, EventLogCommand.self, RouteCommand.self, JobCommand.self, RuleCommand.self, AlarmCommand.self, TimeSeriesCommand.self,
            ExportCommand.self, ReportCommand.self, BenchCommand.self, SimulateCommand.self, DemoCommand.self,
        ]
    )

    public init() {}

    /// The program's entry point (`Sources/meridian/main.swift` calls only this). Inside an async
    /// function the argument parser's async `main` is chosen; top-level code would pick the synchronous
    /// one, which refuses async commands.
    public static func runFromCommandLine() async {
        await main(nil)
    }
}
