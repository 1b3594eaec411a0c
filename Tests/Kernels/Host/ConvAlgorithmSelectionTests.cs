using NUnit.Framework;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>The host convolution's algorithm as a user meets it: auto unless asked, and named on the device line.</summary>
public class ConvAlgorithmSelectionTests
{
    static readonly string[] Gradcheck = ["gradcheck", "--model", "revnet-tiny", "--batch", "2", "--device", "cpu"];

    [Test]
    public void WithoutTheOptionOrTheVariable_TheHostConvolutionIsAuto()
    {
        // An empty REVNET_CONV_ALGORITHM counts as unset, so a value in the test runner's environment cannot leak in.
        var result = RevnetCli.RunChild(Gradcheck, TimeSpan.FromMinutes(2), (HostConvAlgorithm.EnvironmentVariable, ""));
        Assert.That(result.ExitCode, Is.Zero, result.StandardError);
        Assert.That(result.StandardError, Does.Contain("conv algorithm auto"));
    }

    [TestCase("direct")]
    [TestCase("fastest")]
    [TestCase("winograd")]
    public void TheOption_ChoosesTheAlgorithm_AndTheDeviceLineSaysSo(string setting)
    {
        var result = RevnetCli.RunChild([.. Gradcheck, "--conv-algorithm", setting], TimeSpan.FromMinutes(2), (HostConvAlgorithm.EnvironmentVariable, ""));
        Assert.That(result.ExitCode, Is.Zero, result.StandardError);
        Assert.That(result.StandardError, Does.Contain($"conv algorithm {setting}"));
        Assert.That(result.StandardOutput.TrimEnd(), Does.EndWith("loss_equal=true running_stats_equal=true"));
    }
}
