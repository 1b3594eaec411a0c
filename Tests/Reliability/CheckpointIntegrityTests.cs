using NUnit.Framework;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>A checkpoint whose tensor bytes changed after it was written is refused with one line, never evaluated.</summary>
public class CheckpointIntegrityTests
{
    TinyIdxDataset data = null!;

    [OneTimeSetUp]
    public void WriteData() => data = new TinyIdxDataset();

    [OneTimeTearDown]
    public void DeleteData() => data.Dispose();

    [Test]
    public void Eval_OfACheckpointWithOneChangedByteInATensor_IsOneErrorLineNamingTheFileAndTheTensor_ExitCode2()
    {
        var train = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "corrupt", "--max-steps", "2")]);
        Assert.That(train.ExitCode, Is.Zero, train.StandardError);
        string path = Path.Combine(data.OutputDirectory("corrupt"), "last.safetensors");
        var bytes = File.ReadAllBytes(path);
        // The JSON header is a few KiB at the start; the middle of the file lies inside some tensor's data.
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var eval = RevnetCli.RunInProcess("eval", path, "--data", data.Directory, "--device", "cpu");

        Assert.That(eval.ExitCode, Is.EqualTo(2), eval.StandardOutput);
        Assert.That(eval.ErrorLines, Has.Count.EqualTo(1));
        Assert.That(eval.ErrorLines[0], Does.StartWith($"revnet: error: {path}: tensor '").And.Contain("' is corrupt"));
        Assert.That(eval.StandardOutput, Does.Not.Contain("test_acc"), "nothing was evaluated");
    }
}
