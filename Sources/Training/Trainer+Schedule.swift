import Checkpoint
import Optim

/// The learning-rate schedule in the loop and in checkpoints.
///
/// The rate is a pure function of the base rate and the scheduler's counter
/// (torch's `last_epoch`): the epoch with `--lr-schedule-unit epoch`, the
/// optimizer steps taken with `step`. Both are part of every checkpoint's
/// position, so a resumed run recomputes exactly the rate an uninterrupted
/// one would use; `/scheduler` holds torch's state_dict for people and is
/// checked against the position on resume.
extension Trainer {
    /// torch's `last_epoch` before the next step of `epoch` (0-based).
    func scheduleCounter(epoch: Int) -> Int {
        options.schedule.unit == .epoch ? epoch : globalStep
    }

    /// Sets the optimizer's learning rate for the next step of `epoch`.
    func applySchedule(epoch: Int) {
        guard let schedule else { return }
        optimizer.learningRate = Float(schedule.learningRate(base: Double(options.learningRate), epoch: scheduleCounter(epoch: epoch)))
    }

    /// The scheduler as torch would hold it at the start of `epoch`'s next step.
    func scheduler(epoch: Int) -> LearningRateScheduler? {
        guard let schedule else { return nil }
        return try? LearningRateScheduler(schedule, baseLearningRate: Double(baseLearningRate),
                                          lastEpoch: scheduleCounter(epoch: epoch))
    }

    /// `/scheduler` for a checkpoint taken before the next step of `epoch`.
    func schedulerState(epoch: Int) -> SchedulerState? {
        scheduler(epoch: epoch).map { SchedulerState(type: $0.state.typeName, scalars: $0.state.scalars, lists: $0.state.lists) }
    }

    /// What differs between the checkpoint's schedule and this run's, in
    /// resume's "does not match" words (empty when they agree). `counter` is
    /// torch's last_epoch that the checkpoint's position implies.
    func scheduleDifferences(_ saved: SchedulerState?, counter: Int) -> [String] {
        switch (saved, schedule) {
        case (nil, nil):
            return []
        case (let saved?, nil):
            return ["--lr-schedule: the checkpoint's run follows a '\(saved.type)' schedule, this run asks for none"]
        case (nil, let schedule?):
            return ["--lr-schedule: the checkpoint's run had no schedule, this run asks for \(schedule)"]
        case (let saved?, let schedule?):
            let state = LearningRateSchedulerState(typeName: saved.type, scalars: saved.scalars, lists: saved.lists)
            do {
                let restored = try LearningRateScheduler(state: state, expecting: schedule)
                if restored.lastEpoch != counter {
                    return ["--lr-schedule-unit: the checkpoint's scheduler is at last_epoch \(restored.lastEpoch), but its position "
                            + "gives \(counter) with --lr-schedule-unit \(options.schedule.unit.rawValue)"]
                }
                return []
            } catch {
                return ["--lr-schedule: \(error)"]
            }
        }
    }
}
