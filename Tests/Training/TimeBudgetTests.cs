using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Reliability;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Training;

/// <summary>
/// `--time-budget`: the step count fitted from the timed warm-up and re-fitted once the pace has settled, the guard for
/// a machine that slows down, and that `--max-steps` with the printed count repeats the run. The controller is fed
/// made-up times, and whole runs read a <see cref="ManualClock"/>, so nothing here depends on how fast the machine is.
/// </summary>
public class TimeBudgetTests
{
    static LearningRateSchedule Cosine(long totalSteps, int warmup) => new("cosine", 0.05f, totalSteps, [], warmup);

    [TestCase(100.0, 10, 10L, 10.0, 0.5, 5.0, 50)]
    [TestCase(300.0, 30, 30L, 25.0, 0.31, 9.0, 468)]
    [TestCase(300.0, 30, 30L, 25.0, 0.07, 2.0, 468)]
    [TestCase(300.0, 30, 160L, 40.0, 0.07, 2.0, 100)]
    [TestCase(60.0, 9, 9L, 3.0, 0.013, 0.4, 7)]
    public void ChosenSteps_AreTheMostWhoseTrainingAndEvaluationsAheadFit(double seconds, int warmup, long done, double elapsed, double perStep, double perEvaluation, int perEpoch)
    {
        var budget = new TimeBudget(seconds, warmup, Cosine(long.MaxValue / 2, warmup), perEpoch);
        long total = budget.ChooseTotalSteps(elapsed, done, perStep, perEvaluation, fewest: done, most: long.MaxValue);
        double usable = seconds * (1 - TimeBudget.SafetyFraction) - elapsed;
        // Epoch ends at multiples of perEpoch not yet evaluated (steps done..total-1), and the last step.
        double Cost(long steps) => (steps - done) * perStep
            + (1 + Enumerable.Range(0, (int)(steps - done)).Count(i => (done + i) % perEpoch == 0 && done + i > 0)) * perEvaluation;
        Assert.That(Cost(total), Is.LessThanOrEqualTo(usable), "training after the steps done plus every evaluation ahead fits");
        Assert.That(Cost(total + 1), Is.GreaterThan(usable), "one more step would not fit");
    }

    [Test]
    public void ChosenSteps_NeverFewerThanTheFewest_NorMoreThanTheMost()
    {
        var budget = new TimeBudget(10, 12, Cosine(1000, 12), 100);
        Assert.That(budget.ChooseTotalSteps(elapsedSeconds: 30, stepsDone: 12, secondsPerStep: 1, evaluationSeconds: 5, fewest: 12, most: 1000), Is.EqualTo(12), "over budget already: stop after the warm-up");
        Assert.That(budget.ChooseTotalSteps(elapsedSeconds: 1, stepsDone: 12, secondsPerStep: 1e-4, evaluationSeconds: 0.1, fewest: 12, most: 500), Is.EqualTo(500), "the epochs end first");
        Assert.That(budget.ChooseTotalSteps(elapsedSeconds: 1, stepsDone: 12, secondsPerStep: 1e-20, evaluationSeconds: 0, fewest: 12, most: long.MaxValue), Is.EqualTo(long.MaxValue), "no overflow on a very fast step");
    }

    /// <summary>
    /// Feeds the controller a run as <see cref="Trainer"/> does: steps of <paramref name="secondsPerStep"/>(step) each,
    /// <paramref name="batchesPerEpoch"/> to an epoch, evaluations that time at <paramref name="evaluationSeconds"/> during
    /// the warm-up and at <paramref name="laterEvaluationSeconds"/> (default: the same) after it. Returns the rate each
    /// step used, the log, and the wall time when the last evaluation ended.
    /// </summary>
    static (List<float> Rates, List<string> Log, double Seconds) Simulate(TimeBudget budget, Func<long, double> secondsPerStep,
        double evaluationSeconds = 2, double? laterEvaluationSeconds = null, int batchesPerEpoch = 937)
    {
        var rates = new List<float>();
        var log = new List<string>();
        budget.Log += log.Add;
        double elapsed = 0;
        for (long step = 1; step <= budget.TotalSteps; step++)
        {
            rates.Add(budget.Schedule.At(step - 1));
            double seconds = secondsPerStep(step);
            elapsed += seconds;
            double evaluation = step <= budget.WarmupSteps ? evaluationSeconds : laterEvaluationSeconds ?? evaluationSeconds;
            budget.AfterStep(step, elapsed, seconds, epochEndsNow: step % batchesPerEpoch == 0, () => evaluation);
            if (step % batchesPerEpoch == 0 || step == budget.TotalSteps)
            {
                elapsed += evaluation;
                budget.EvaluationMeasured(evaluation);
            }
        }
        return (rates, log, elapsed);
    }

    [TestCase(0.126, 0.105, TestName = "Refit_ThePaceSettlesFaster_MoreSteps")]
    [TestCase(0.100, 0.130, TestName = "Refit_TheMachineSlowsALittle_FewerSteps")]
    public void Refit_UsesTheSettledPace_AndTheRunsRatesAreThoseOfItsFinalCount(double warmupPace, double settledPace)
    {
        // The main job's shape: 30 warm-up steps, 300 s, 937 steps an epoch, at most 20 epochs.
        var budget = new TimeBudget(300, 30, Cosine(20 * 937, 30), 937);
        var (rates, log, seconds) = Simulate(budget, step => step <= 60 ? warmupPace : settledPace);

        Assert.That(log, Has.Count.GreaterThanOrEqualTo(2), string.Join("\n", log));
        Assert.That(log, Has.None.Contains("stopping"), "the plan held: no cut");
        Assert.That(log[0], Does.StartWith($"time budget 300 s: {warmupPace * 1000:F0} ms per step, ~2.0 s per evaluation -> ").And.Contain($"re-fitted after step {budget.RefitStep}"));
        Assert.That(log[1], Does.Contain($"took {settledPace * 1000:F0} ms each -> {budget.TotalSteps} steps in all").And.EndWith($"--max-steps {budget.TotalSteps} --warmup-steps 30 repeats this run"));
        long firstCount = long.Parse(log[0].Split("-> ")[1].Split(' ')[0]);
        Assert.That(budget.TotalSteps, settledPace < warmupPace ? Is.GreaterThan(firstCount) : Is.LessThan(firstCount), "the re-fit moved the count toward the settled pace");
        Assert.That(seconds, Is.InRange(300 * (1 - TimeBudget.SafetyFraction) - settledPace - 2.0, 300 * (1 - TimeBudget.SafetyFraction)), "ends in the last few percent of the budget");
        var repeat = Cosine(budget.TotalSteps, 30);
        Assert.That(rates, Is.EqualTo(Enumerable.Range(0, (int)budget.TotalSteps).Select(s => repeat.At(s))), "every rate the budgeted run used is the --max-steps run's");
    }

    [Test]
    public void Refit_OnAMuchSlowerMachine_ChoosesNoFewerThanItsLowestShare_AndTheGuardStopsTheRest()
    {
        var budget = new TimeBudget(300, 30, Cosine(20 * 937, 30), 937);
        var (rates, log, _) = Simulate(budget, step => step <= 60 ? 0.1 : 0.4);
        long firstCount = long.Parse(log[0].Split("-> ")[1].Split(' ')[0]);
        long fewest = (long)Math.Ceiling(firstCount * TimeBudget.LowestRefitShare);
        Assert.That(log[1], Does.Contain($"-> {fewest} steps in all"), "the fewest the rates already used allow");
        Assert.That(log[2], Does.StartWith("time budget: evaluation re-timed after step "));
        Assert.That(log[3], Does.StartWith("time budget: steps slowed to ~400 ms (calibrated 400 ms), an evaluation to ~2.0 s; stopping at step "));
        Assert.That(budget.TotalSteps, Is.LessThan(fewest));
        var planned = Cosine(fewest, 30);
        Assert.That(rates, Is.EqualTo(Enumerable.Range(0, rates.Count).Select(s => planned.At(s))), "cut short, but on the re-fitted count's rates");
    }

    [Test]
    public void NoRefit_WhenTheHeldRatesEndTooSoon_TheFirstFitIsFinal()
    {
        var budget = new TimeBudget(3600, 9, Cosine(18, 9), 6);
        var (_, log, _) = Simulate(budget, _ => 0.01, evaluationSeconds: 0, batchesPerEpoch: 6);
        Assert.That(budget.RefitStep, Is.Null);
        Assert.That(log, Is.EqualTo(new[] { "time budget 3600 s: 10 ms per step, ~0.0 s per evaluation -> 18 steps in all (3.00 epochs); --max-steps 18 --warmup-steps 9 repeats this run" }));
    }

    [Test]
    public void EveryDecision_IsTheRanksSmallest()
    {
        // Another rank's clock is slower: it can afford at most 700 steps.
        var budget = new TimeBudget(300, 30, Cosine(20 * 937, 30), 937, agree: value => Math.Min(value, value > 1 ? 700 : value));
        var (rates, log, _) = Simulate(budget, _ => 0.1);
        Assert.That(log[0], Does.Contain("-> 700 steps in all"));
        Assert.That(budget.TotalSteps, Is.EqualTo(700));
        Assert.That(rates, Has.Count.EqualTo(700));
    }

    [Test]
    public void Guard_RetimesTheEvaluationOnceNearTheEnd_AndStopsInTimeForTheSlowerOne()
    {
        // Steps keep their pace, but evaluation's large batches have slowed to 8 s (estimated at 2 s during the warm-up).
        var budget = new TimeBudget(300, 30, Cosine(20 * 937, 30), 937);
        var (_, log, seconds) = Simulate(budget, _ => 0.1, evaluationSeconds: 2, laterEvaluationSeconds: 8);

        Assert.That(log.Count(l => l.Contains("re-timed")), Is.EqualTo(1));
        Assert.That(log[^2], Does.StartWith("time budget: evaluation re-timed after step ").And.EndWith(": ~8.0 s"));
        Assert.That(log[^1], Does.StartWith("time budget: steps slowed to ~100 ms (calibrated 100 ms), an evaluation to ~8.0 s; stopping at step "));
        Assert.That(seconds, Is.InRange(300 * (1 - TimeBudget.SafetyFraction / 2) - 0.2, 300 * (1 - TimeBudget.SafetyFraction / 2)),
            "training and the slower last evaluation end just inside the guard's line");
    }

    [Test]
    public void MustStopEarly_OnlyWhenTheLastEvaluationWouldNoLongerFit_AtTheSlowerPace()
    {
        var budget = new TimeBudget(100, 10, Cosine(10_000, 10), 1000);
        Simulate(budget, _ => 0.5, evaluationSeconds: 4, batchesPerEpoch: 1000);
        double limit = 100 * (1 - TimeBudget.SafetyFraction / 2);
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: false), Is.False, "on pace, with room for a step and the evaluation");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 + 0.01, 0.5, epochEndsNow: false), Is.True);
        Assert.That(budget.MustStopEarly(limit - 1 - 8 + 0.01, 1.0, epochEndsNow: false), Is.True, "twice as slow: the evaluation is assumed twice as slow too");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: true), Is.True, "an epoch-end evaluation comes first");
        budget.EvaluationMeasured(6);
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: false), Is.True, "a measured evaluation replaces the estimate");
    }

    [Test]
    public void BadSettings_AreRefusedNamingTheOption()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new TimeBudget(0, 30, Cosine(100, 30), 10))!.Message, Does.Contain("--time-budget"));
        Assert.That(Assert.Throws<ArgumentException>(() => new TimeBudget(300, 3, Cosine(100, 3), 10))!.Message, Does.Contain("--warmup-steps"));
    }

    [Test]
    public void BudgetedRun_IsRepeatedBitForBit_ByMaxStepsWithTheSameWarmup()
    {
        using var data = new TinyIdxDataset(trainCount: 48);
        using var device = Device.Create("cpu");
        // 6 batches an epoch, 3 epochs: an hour's budget fits them all on any machine, so the run is never cut short;
        // the schedule is still rebuilt from the chosen count after the warm-up. (Which count fits is tested above.)
        var budgeted = new Trainer(device, TinyRun.Options(data, "budget") with { Epochs = 3, WarmupSteps = 9, TimeBudgetSeconds = 3600 });
        var log = new List<string>();
        budgeted.Log += log.Add;
        var first = budgeted.Run();
        Assert.That(first.Steps, Is.EqualTo(18));
        Assert.That(log, Has.One.Contains("-> 18 steps in all (3.00 epochs); --max-steps 18 --warmup-steps 9 repeats this run"), "the chosen step count is printed");

        var repeat = new Trainer(device, TinyRun.Options(data, "repeat") with { Epochs = 3, WarmupSteps = 9, MaxSteps = first.Steps }).Run();

        Assert.That(repeat.Steps, Is.EqualTo(first.Steps));
        AssertSameTensors(data, "budget", "repeat");
    }

    [Test]
    public void RefittedRun_IsRepeatedBitForBit_ByMaxStepsWithThePrintedCount()
    {
        using var data = new TinyIdxDataset(trainCount: 400);
        using var device = Device.Create("cpu");
        // 50 batches an epoch, at most 10 epochs. On the manual clock the warm-up's steps take 1 s and later ones 0.8 s,
        // so the first fit (100 steps) is too few and the re-fit, before the held rate ends, raises the count.
        var clock = new ManualClock();
        var options = TinyRun.Options(data, "refit") with { Epochs = 10, WarmupSteps = 9, TimeBudgetSeconds = 101.9 };
        var budgeted = new Trainer(device, options, clock: clock);
        budgeted.StepCompleted += p => clock.Advance(p.Step < 9 ? 1.0 : 0.8);
        var log = new List<string>();
        budgeted.Log += log.Add;
        var first = budgeted.Run();

        var budgetLines = log.Where(l => l.StartsWith("time budget")).ToList();
        Assert.That(budgetLines, Has.Count.EqualTo(2), string.Join("\n", log));
        Assert.That(budgetLines[0], Does.Contain("1000 ms per step").And.Contain("-> 100 steps in all (2.00 epochs); re-fitted after step 15"));
        Assert.That(budgetLines[1], Does.Contain("steps 13-15 took 800 ms each -> 123 steps in all (2.46 epochs); --max-steps 123 --warmup-steps 9 repeats this run"));
        Assert.That(first.Steps, Is.EqualTo(123));

        var repeat = new Trainer(device, options with { OutputDirectory = data.OutputDirectory("repeat"), TimeBudgetSeconds = null, MaxSteps = 123 }).Run();

        Assert.That(repeat.Steps, Is.EqualTo(123));
        AssertSameTensors(data, "refit", "repeat");
    }

    static void AssertSameTensors(TinyIdxDataset data, string run, string repeat)
    {
        var expected = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory(run), "last.safetensors"));
        var actual = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory(repeat), "last.safetensors"));
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        var differing = expected.Keys.Where(name => !expected[name].AsSpan().SequenceEqual(actual[name])).ToList();
        Assert.That(differing, Is.Empty, $"tensors whose bytes differ between the budgeted run and its --max-steps repeat");
    }

    [Test]
    public void ResumingABudgetedRun_IsRefused()
    {
        using var data = new TinyIdxDataset(trainCount: 48);
        using var device = Device.Create("cpu");
        var options = TinyRun.Options(data, "resume") with { WarmupSteps = 9, TimeBudgetSeconds = 60, Resume = "last.safetensors" };
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(device, options).Run());
        Assert.That(ex!.Message, Does.Contain("--time-budget").And.Contain("--max-steps"));
    }
}
