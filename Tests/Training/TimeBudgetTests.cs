using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Training;

/// <summary>`--time-budget`: the step count fixed from the timed warm-up, the schedule it implies, and that `--max-steps` repeats the run.</summary>
public class TimeBudgetTests
{
    [TestCase(100.0, 10, 10.0, 0.5, 5.0, 50)]
    [TestCase(300.0, 30, 25.0, 0.31, 9.0, 468)]
    [TestCase(300.0, 30, 25.0, 0.07, 2.0, 468)]
    [TestCase(60.0, 9, 3.0, 0.013, 0.4, 7)]
    public void ChosenSteps_AreTheMostWhoseTrainingAndEvaluationsFit(double seconds, int warmup, double elapsed, double perStep, double perEvaluation, int perEpoch)
    {
        var budget = new TimeBudget(seconds, warmup);
        long total = budget.ChooseTotalSteps(elapsed, perStep, perEvaluation, perEpoch, maxSteps: long.MaxValue);
        double usable = seconds * (1 - TimeBudget.SafetyFraction) - elapsed;
        double Cost(long steps) => (steps - warmup) * perStep + (1 + (steps - 1) / perEpoch) * perEvaluation;
        Assert.That(Cost(total), Is.LessThanOrEqualTo(usable), "training after the warm-up plus every evaluation fits");
        Assert.That(Cost(total + 1), Is.GreaterThan(usable), "one more step would not fit");
    }

    [Test]
    public void ChosenSteps_NeverFewerThanTheWarmup_NorMoreThanTheCap()
    {
        var budget = new TimeBudget(10, 12);
        Assert.That(budget.ChooseTotalSteps(elapsedSeconds: 30, secondsPerStep: 1, evaluationSeconds: 5, batchesPerEpoch: 100, maxSteps: 1000), Is.EqualTo(12), "over budget already: stop after the warm-up");
        Assert.That(budget.ChooseTotalSteps(elapsedSeconds: 1, secondsPerStep: 1e-4, evaluationSeconds: 0.1, batchesPerEpoch: 100, maxSteps: 500), Is.EqualTo(500), "the epochs end first");
    }

    [Test]
    public void MustStopEarly_OnlyWhenTheLastEvaluationWouldNoLongerFit_AtTheSlowerPace()
    {
        var budget = new TimeBudget(100, 10);
        budget.ChooseTotalSteps(elapsedSeconds: 5, secondsPerStep: 0.5, evaluationSeconds: 4, batchesPerEpoch: 1000, maxSteps: 10_000);
        double limit = 100 * (1 - TimeBudget.SafetyFraction / 2);
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: false), Is.False, "on pace, with room for a step and the evaluation");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 + 0.01, 0.5, epochEndsNow: false), Is.True);
        Assert.That(budget.MustStopEarly(limit - 1 - 8 + 0.01, 1.0, epochEndsNow: false), Is.True, "twice as slow: the evaluation is assumed twice as slow too");
        Assert.That(budget.MustStopEarly(limit - 0.5 - 4 - 0.01, 0.5, epochEndsNow: true), Is.True, "an epoch-end evaluation comes first");
    }

    [Test]
    public void BadSettings_AreRefusedNamingTheOption()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new TimeBudget(0, 30))!.Message, Does.Contain("--time-budget"));
        Assert.That(Assert.Throws<ArgumentException>(() => new TimeBudget(300, 3))!.Message, Does.Contain("--warmup-steps"));
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
    }

    [Test]
    public void WithoutWarmup_TheScheduleIsTheOldCosine()
    {
        var schedule = new LearningRateSchedule("cosine", 0.3f, 450, []);
        foreach (long step in new long[] { 0, 1, 225, 449, 450 })
            Assert.That(schedule.At(step), Is.EqualTo((float)(0.3f * 0.5 * (1 + Math.Cos(Math.PI * step / 450)))), $"step {step}");
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
        var expected = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory("budget"), "last.safetensors"));
        var actual = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory("repeat"), "last.safetensors"));
        var differing = expected.Keys.Where(name => !expected[name].AsSpan().SequenceEqual(actual[name])).ToList();
        Assert.That(differing, Is.Empty, "tensors whose bytes differ between the budgeted run and its --max-steps repeat");
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
