using NUnit.Framework;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>Choosing the host kernels' SIMD level from the command line and from REVNET_SIMD, as a user does.</summary>
public class SimdLevelSelectionTests
{
    static string GoldenDirectory => Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden");

    [TestCaseSource(typeof(HostSimd), nameof(HostSimd.Supported))]
    public void GoldenCases_PassAtEverySupportedLevel_ChosenWithTheSimdOption(SimdLevel level)
    {
        var before = HostSimd.Active;
        try
        {
            var result = RevnetCli.RunInProcess("golden", GoldenDirectory, "--device", "cpu", "--simd", level.ToString().ToLowerInvariant());
            Assert.That(result.ExitCode, Is.Zero, result.StandardOutput + result.StandardError);
            Assert.That(result.StandardError, Does.Contain($"SIMD host kernels ({level})"), "the device line names the level that ran");
            Assert.That(result.StandardOutput.TrimEnd(), Does.EndWith(" passed, 0 failed"));
        }
        finally
        {
            HostSimd.Active = before;
        }
    }

    [Test]
    public void UnknownLevel_FromTheOption_IsOneErrorLine_ExitCode2()
    {
        var result = RevnetCli.RunInProcess("golden", GoldenDirectory, "--device", "cpu", "--simd", "avx9");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.ErrorLines, Is.EqualTo(new[] { "revnet: error: --simd='avx9': expected vector512, vector256 or scalar" }));
    }

    [Test]
    public void UnknownLevel_FromTheEnvironment_IsOneErrorLine_ExitCode2()
    {
        var result = RevnetCli.RunChild(["golden", GoldenDirectory, "--device", "cpu"], TimeSpan.FromMinutes(2), (HostSimd.EnvironmentVariable, "nosuch"));
        Assert.That(result.ExitCode, Is.EqualTo(2), result.StandardError);
        Assert.That(result.ErrorLines, Is.EqualTo(new[] { "revnet: error: REVNET_SIMD='nosuch': expected vector512, vector256 or scalar" }));
        Assert.That(result.StandardOutput, Is.Empty);
    }
}
