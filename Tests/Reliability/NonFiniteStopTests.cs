using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

public class NonFiniteStopTests
{
    [Test]
    public void DivergingRun_StopsNamingTheStepAndTensor_AndKeepsTheLastGoodCheckpointFinite()
    {
        using var data = new TinyIdxDataset();
        using var device = Device.Create("cpu");
        var options = TinyRun.Options(data, "diverge") with { LearningRate = 1e30f, CheckpointEvery = 1, Epochs = 4 };

        var error = Assert.Throws<NonFiniteException>(() => new Trainer(device, options).Run())!;

        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Match(@"^step \d+: "), "names the step");
        Assert.That(error.Message, Does.Contain("first non-finite").Or.Contain("NaN/Inf"), "names what went bad");
        long badStep = long.Parse(error.Message[5..error.Message.IndexOf(':')]);
        string last = Path.Combine(options.OutputDirectory, "last.safetensors");
        if (badStep == 1)
        {
            Assert.That(File.Exists(last), Is.False, "nothing good to keep when the first step diverges");
            return;
        }
        var state = CheckpointFiles.LoadIntoFreshModel(device, last, out var values);
        Assert.That(state.Step, Is.LessThan(badStep), "the checkpoint predates the bad step");
        Assert.That(values.All(float.IsFinite), "the kept checkpoint holds no NaN/Inf");
    }

    [Test]
    public void CheckEveryOp_NamesTheOpWhoseOutputWentBad_AndTheStep()
    {
        using var data = new TinyIdxDataset();
        using var device = Device.Create("cpu");
        var options = TinyRun.Options(data, "check-ops") with { LearningRate = 1e30f, CheckEveryOp = true, Epochs = 4 };

        var error = Assert.Throws<NonFiniteException>(() => new Trainer(device, options).Run())!;

        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Match(@"^step \d+: .*output of \w+"), "the step and the op whose output first held NaN/Inf");
    }

    [Test]
    public void DivergingRun_OnTheCommandLine_IsOneErrorLine_AndANonZeroExit()
    {
        using var data = new TinyIdxDataset();
        var args = TinyRun.TrainArguments(data, "cli-diverge", "--lr", "1e30", "--epochs", "4", "--checkpoint-every", "1");

        var result = RevnetCli.RunInProcess([.. args]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1).And.One.Match(@"^revnet: error: step \d+: "));
    }
}
