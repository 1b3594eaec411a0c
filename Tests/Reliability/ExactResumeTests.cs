using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Reliability;

public class ExactResumeTests
{
    const int TotalSteps = 18, InterruptedAfter = 9;

    [Test]
    public void ResumingAnInterruptedRun_FromItsMidRunCheckpoint_GivesBitIdenticalWeights()
    {
        using var data = new TinyIdxDataset(trainCount: 48);
        using var device = Device.Create("cpu");
        // 6 batches an epoch, 3 epochs: the split falls mid-epoch 2, after an evaluation and an epoch-end save,
        // with crops, flips and the cosine schedule all depending on the step and position.
        TrainOptions Run(string name) => TinyRun.Options(data, name) with
        {
            Epochs = 3, CropPadding = 2, Flip = true, Schedule = "cosine", CheckpointEvery = InterruptedAfter,
        };

        var whole = new Trainer(device, Run("whole")).Run();

        var interrupted = new Trainer(device, Run("split"));
        interrupted.StepCompleted += p =>
        {
            if (p.Step == InterruptedAfter + 1) throw new OperationCanceledException("simulated crash after the mid-run checkpoint");
        };
        Assert.Throws<OperationCanceledException>(() => interrupted.Run());
        string splitLast = Path.Combine(data.OutputDirectory("split"), "last.safetensors");
        Assert.That(CheckpointFiles.LoadIntoFreshModel(device, splitLast, out _).Step, Is.EqualTo(InterruptedAfter), "the crash left the mid-run checkpoint");
        var resumed = new Trainer(device, Run("split") with { Resume = splitLast }).Run();

        Assert.That((whole.Steps, resumed.Steps), Is.EqualTo((TotalSteps, TotalSteps)));
        var expected = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory("whole"), "last.safetensors"));
        var actual = CheckpointFiles.TensorBytes(splitLast);
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        var differing = expected.Keys.Where(name => !expected[name].AsSpan().SequenceEqual(actual[name])).ToList();
        Assert.That(differing, Is.Empty, "tensors whose bytes differ between the uninterrupted and the resumed run");
    }
}
