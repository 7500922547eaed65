/// An error about an option that only the command line has (`bench
/// --seconds`, `bench --scaling`, `experiment NAME`). The library's
/// `TrainingError.invalidOption` takes the library's keys (`OptionKey`) and
/// knows no flag of its own, so the command line names its own options
/// here, by flag, in the same words (`--seconds: must be ...`). A bad value
/// is checked inside `Job.run`, which exits 64 on it as on a bad library
/// option: the same command would meet it again.
struct CommandLineError: Error, CustomStringConvertible {
    /// The flag or argument as the user typed it (`--seconds`, `NAME`).
    let flag: String
    let problem: String

    init(_ flag: String, _ problem: String) { (self.flag, self.problem) = (flag, problem) }

    var description: String { "\(flag): \(problem)" }
}
