using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

public class OutOfMemoryTests
{
    [TestCase("cpu")]
    [TestCase("meta")]
    public void TrainingBeyondTheMemoryLimit_FailsWithAMessageThatSaysHowMuchAndWhatToTry(string deviceName)
    {
        using var data = new TinyIdxDataset();
        using var device = Device.Create(deviceName, memoryLimitBytes: 64 * 1024);

        var error = Assert.Throws<DeviceOutOfMemoryException>(() => new Trainer(device, TinyRun.Options(data, "oom")).Run())!;

        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Match(@"requested [\d,]+ bytes").And.Match(@"[\d,]+ in use").And.Match(@"[\d,]+ available"));
        Assert.That(error.Message, Does.Contain("smaller --batch").And.Contain("reconstructing mode").And.Contain("revnet memory"));
        Assert.That(error.RequestedBytes, Is.Positive);
    }

    [Test]
    public void OutOfMemoryMidStep_OnTheCommandLine_IsOneErrorLine_AndKeepsTheEarlierCheckpoint()
    {
        using var data = new TinyIdxDataset();
        var (good, limit) = (TinyRun.TrainArguments(data, "run", "--max-steps", "2"), 0L);
        Assert.That(RevnetCli.RunInProcess([.. good]).ExitCode, Is.Zero, "the earlier, successful run");
        string last = Path.Combine(data.OutputDirectory("run"), "last.safetensors");
        var saved = File.ReadAllBytes(last);

        // Between what the model holds and what a step needs, so the second run fails inside its first step.
        using (var device = Device.Create("cpu"))
        {
            long held = 0;
            var trainer = new Trainer(device, TinyRun.Options(data, "measure") with { MaxSteps = 1 });
            trainer.StepCompleted += p => held = p.BytesInUse;
            var peak = trainer.Run().PeakBytes;
            limit = (held + peak) / 2;
            Assume.That(peak - held, Is.GreaterThan(8 * 1024), "a step needs noticeably more than the model holds");
        }
        var constrained = TinyRun.TrainArguments(data, "run", "--max-steps", "2", "--memory-limit", $"{limit}");
        var result = RevnetCli.RunInProcess([.. constrained]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1).And.One.Match("^revnet: error: out of device memory.*requested.*smaller --batch"));
        Assert.That(File.ReadAllBytes(last), Is.EqualTo(saved), "last.safetensors of the earlier run is untouched");
    }
}
