using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Training;

/// <summary>`--time-budget`: the step count fixed from the timed warm-up, the schedule it implies, the guard, and that `--max-steps` repeats the run.</summary>
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

    [Test]
    public void MustStopEarly_OnlyWhenTheLastEvaluationWouldNoLongerFit_AtTheSlowerPace()
    {
        var budget = new TimeBudget(100, 10, Cosine(10_000, 10), 1000);
        for (int step = 1; step <= 10; step++)
            budget.AfterStep(step, elapsedSeconds: 0.5 * step, stepSeconds: 0.5, epochEndsNow: false, () => 4);
        Assert.That((budget.CalibratedSecondsPerStep, budget.EvaluationSeconds), Is.EqualTo((0.5, 4.0)));
        double limit = 100 * (1 - TimeBudget.SafetyFraction / 2);
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: false), Is.False, "on pace, with room for a step and the evaluation");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 + 0.01, 0.5, epochEndsNow: false), Is.True);
        Assert.That(budget.MustStopEarly(limit - 1 - 8 + 0.01, 1.0, epochEndsNow: false), Is.True, "twice as slow: the evaluation is assumed twice as slow too");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: true), Is.True, "an epoch-end evaluation comes first");
    }

    [Test]
    public void Warmup_RatesDoNotDependOnTheRunsLength_AndCosineEndsAtZero()
    {
        var shorter = new LearningRateSchedule("cosine", 0.1f, 100, [], warmupSteps: 10);
        var longer = new LearningRateSchedule("cosine", 0.1f, 1000, [], warmupSteps: 10);
        for (int step = 0; step < 10; step++)
            Assert.That(shorter.At(step), Is.EqualTo(longer.At(step)).And.EqualTo(0.1f * (step + 1) / 10), $"warm-up step {step}");
        Assert.That(shorter.At(10), Is.EqualTo(0.1f), "the cosine starts from the base rate after the warm-up");
        Assert.That(shorter.At(55), Is.EqualTo(0.05f).Within(1e-7f), "halfway through the cosine");
        Assert.That(shorter.At(100), Is.EqualTo(0f).Within(1e-9f));
        Assert.That(shorter.WithTotalSteps(1000).At(55), Is.EqualTo(longer.At(55)), "the same schedule over another count");
    }

    [Test]
    public void WithoutWarmup_TheScheduleIsTheOldCosine()
    {
        var schedule = new LearningRateSchedule("cosine", 0.3f, 450, []);
        foreach (long step in new long[] { 0, 1, 225, 449, 450 })
            Assert.That(schedule.At(step), Is.EqualTo((float)(0.3f * 0.5 * (1 + Math.Cos(Math.PI * step / 450)))), $"step {step}");
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
