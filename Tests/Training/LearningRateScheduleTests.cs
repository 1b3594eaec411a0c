using NUnit.Framework;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Training;

/// <summary>The schedule's shape, and which of its rates a longer or shorter run shares (what a time budget's fits rely on).</summary>
public class LearningRateScheduleTests
{
    [Test]
    public void Warmup_RatesDoNotDependOnTheRunsLength()
    {
        var shorter = new LearningRateSchedule("cosine", 0.1f, 100, [], warmupSteps: 10);
        var longer = new LearningRateSchedule("cosine", 0.1f, 1000, [], warmupSteps: 10);
        for (int step = 0; step < 10; step++)
            Assert.That(shorter.At(step), Is.EqualTo(longer.At(step)).And.EqualTo(0.1f * (step + 1) / 10), $"warm-up step {step}");
    }

    [Test]
    public void Cosine_HoldsTheBaseRateForATenthOfTheStepsAfterTheWarmup_ThenDecaysToZeroAtTheLastStep()
    {
        // 10 warm-up steps, then a tenth of the other 100 (10 steps) at the base rate, then 90 steps of cosine.
        var schedule = new LearningRateSchedule("cosine", 0.1f, 110, [], warmupSteps: 10);
        Assert.That(Enumerable.Range(10, 11).Select(s => schedule.At(s)), Is.All.EqualTo(0.1f), "held from the end of the warm-up to the decay's start");
        Assert.That(schedule.At(21), Is.LessThan(0.1f), "decaying");
        Assert.That(schedule.At(65), Is.EqualTo(0.05f).Within(1e-7f), "halfway through the cosine");
        Assert.That(schedule.At(110), Is.EqualTo(0f).Within(1e-9f));
        Assert.That(schedule.LengthIndependentSteps, Is.EqualTo(20));
    }

    [Test]
    public void WithoutWarmup_TheCosineStartsAfterTheHold()
    {
        var schedule = new LearningRateSchedule("cosine", 0.3f, 450, []);
        Assert.That(schedule.At(0), Is.EqualTo(0.3f));
        foreach (long step in new long[] { 45, 46, 247, 449, 450 })
            Assert.That(schedule.At(step), Is.EqualTo((float)(0.3f * 0.5 * (1 + Math.Cos(Math.PI * (step - 45) / 405)))), $"step {step}");
    }

    [TestCase("cosine", 30, new double[0])]
    [TestCase("cosine", 0, new double[0])]
    [TestCase("step", 30, new[] { 0.5, 0.75 })]
    [TestCase("step", 30, new[] { 0.01, 0.5 })]
    public void RatesBeforeLengthIndependentSteps_AreTheSameForEveryLongerRun(string kind, int warmup, double[] milestones)
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            long total = random.Next(1, 5000);
            var schedule = new LearningRateSchedule(kind, 0.05f, total, milestones, warmup);
            var longer = schedule.WithTotalSteps(total + random.Next(0, 5000));
            Assert.That(longer.LengthIndependentSteps, Is.GreaterThanOrEqualTo(schedule.LengthIndependentSteps), "a longer run shares at least as many leading rates");
            long shared = Math.Min(schedule.LengthIndependentSteps, total);
            for (long step = 0; step < shared; step++)
                Assert.That(longer.At(step), Is.EqualTo(schedule.At(step)), $"{kind} over {total} and {longer.TotalSteps} steps, step {step}");
        }
    }

    [Test]
    public void StepDecay_RatesStopBeingShared_AtTheFirstMilestone()
    {
        var schedule = new LearningRateSchedule("step", 0.1f, 200, [0.5, 0.75], warmupSteps: 10);
        Assert.That(schedule.LengthIndependentSteps, Is.EqualTo(100));
        Assert.That(schedule.At(99), Is.EqualTo(0.1f));
        Assert.That(schedule.At(100), Is.EqualTo(0.1f * 0.1f).Within(1e-9f));
        Assert.That(new LearningRateSchedule("step", 0.1f, 200, [], warmupSteps: 10).LengthIndependentSteps, Is.EqualTo(long.MaxValue), "no milestone: constant after the warm-up");
    }

    [Test]
    public void WithTotalSteps_KeepsTheShape()
    {
        var schedule = new LearningRateSchedule("cosine", 0.1f, 300, [], warmupSteps: 30);
        var same = new LearningRateSchedule("cosine", 0.1f, 700, [], warmupSteps: 30);
        var refitted = schedule.WithTotalSteps(700);
        Assert.That(refitted.TotalSteps, Is.EqualTo(700));
        Assert.That(Enumerable.Range(0, 701).Select(s => refitted.At(s)), Is.EqualTo(Enumerable.Range(0, 701).Select(s => same.At(s))));
    }
}
