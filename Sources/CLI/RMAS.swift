import ArgumentParser

@main
struct RMAS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmas",
        abstract: "RecursiveMAS: latent multi-agent LLM systems on the CPU, in Swift.",
        subcommands: [ModelsCommand.self, InspectCommand.self, TokenizeCommand.self, GenerateCommand.self, BenchCommand.self, ChatCommand.self, GradcheckCommand.self, TrainCommand.self, DataCommand.self, ThinkCommand.self, RunCommand.self, CompareCommand.self, CompareRunsCommand.self, LinksCommand.self, SystemCommand.self, EvalCodeCommand.self, ServeCommand.self])
}
