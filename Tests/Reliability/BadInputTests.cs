using NUnit.Framework;

namespace RevNetIlgpu.Tests.Reliability;

public class BadInputTests
{
    TinyIdxDataset data = null!;

    [OneTimeSetUp]
    public void WriteData() => data = new TinyIdxDataset();

    [OneTimeTearDown]
    public void DeleteData() => data.Dispose();

    static IEnumerable<TestCaseData> Mistakes()
    {
        TestCaseData Case(string name, string expected, params string[] changes) => new TestCaseData(changes, expected).SetName($"Train_{name}_IsOneErrorLine_NoStackTrace_NonZeroExit");
        yield return Case("UnknownModel", "unknown model 'revnet-huge'", "--model", "revnet-huge");
        yield return Case("NegativeBatch", "--batch must be at least 2", "--batch", "-4");
        yield return Case("ZeroBatch", "--batch must be at least 2", "--batch", "0");
        yield return Case("NonNumericBatch", "abc", "--batch", "abc");
        yield return Case("MissingDataPath", "not found in /no/such/revnet-data", "--data", "/no/such/revnet-data");
        yield return Case("UnknownDevice", "unknown device 'tpu'", "--device", "tpu");
        yield return Case("UnknownDataset", "unknown dataset 'imagenet'", "--dataset", "imagenet");
        yield return Case("UnknownOption", "--bogus", "--bogus", "1");
        yield return Case("MissingResumeFile", "checkpoint not found", "--resume", "/no/such/last.safetensors");
        yield return Case("MalformedMemoryLimit", "--memory-limit must be a positive size", "--memory-limit", "lots");
    }

    [TestCaseSource(nameof(Mistakes))]
    public void Train_WithAMistake(string[] changes, string expected)
    {
        var args = TinyRun.TrainArguments(data, "mistake", ["--max-steps", "1", .. changes]);

        AssertOneErrorLine(RevnetCli.RunInProcess([.. args]), expected);
    }

    [TestCase(0, TestName = "Train_ResumingFromAnEmptyCheckpoint_IsOneErrorLine")]
    [TestCase(5, TestName = "Train_ResumingFromATruncatedCheckpoint_IsOneErrorLine")]
    [TestCase(-1, TestName = "Train_ResumingFromAGarbageCheckpoint_IsOneErrorLine")]
    public void Train_ResumingFromACorruptCheckpoint(int keptBytes)
    {
        var good = TinyRun.TrainArguments(data, "corrupt", "--max-steps", "1");
        Assert.That(RevnetCli.RunInProcess([.. good]).ExitCode, Is.Zero);
        string checkpoint = Path.Combine(data.OutputDirectory("corrupt"), "last.safetensors");
        var bytes = File.ReadAllBytes(checkpoint);
        string corrupt = Path.Combine(data.Directory, "corrupt.safetensors");
        File.WriteAllBytes(corrupt, keptBytes >= 0 ? bytes[..keptBytes] : Enumerable.Repeat((byte)0xAB, bytes.Length).ToArray());

        var args = TinyRun.TrainArguments(data, "corrupt", "--resume", corrupt);

        AssertOneErrorLine(RevnetCli.RunInProcess([.. args]), corrupt);
    }

    static void AssertOneErrorLine(CliResult result, string expected)
    {
        TestContext.Out.WriteLine(result.StandardError);
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1), "one line on stderr besides the device announcement");
        Assert.That(result.ErrorLines[0], Does.StartWith("revnet: error: ").And.Contain(expected));
        Assert.That(result.StandardError + result.StandardOutput, Does.Not.Contain("   at "), "no stack trace");
    }
}
