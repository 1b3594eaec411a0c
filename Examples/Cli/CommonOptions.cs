using System.CommandLine;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Cli;

/// <summary>Options every command shares.</summary>
public static class CommonOptions
{
    public static Option<string?> Device() => new("--device")
    {
        Description = "auto (CUDA, then OpenCL, then cpu), cpu (SIMD host kernels), ilgpu-cpu (ILGPU kernels on the CPU accelerator), cuda, opencl " +
            $"or meta (counts memory, runs nothing); default from {Engine.Device.EnvironmentVariable}, else auto",
    };

    /// <summary>The host convolution's algorithm for 3x3 stride-1 layers; every command with --device has it too.</summary>
    public static Option<string?> ConvAlgorithm() => new("--conv-algorithm")
    {
        Description = "cpu device, 3x3 stride-1 convolutions: auto (Winograd where it measured faster), direct or winograd; " +
            $"default from {HostConvAlgorithm.EnvironmentVariable}, else auto",
    };

    /// <summary>
    /// Sets the host convolution's algorithm from --conv-algorithm, or checks REVNET_CONV_ALGORITHM when the option is
    /// absent, so a bad value stops the command before any work with the one-line error naming it.
    /// </summary>
    public static void ApplyConvAlgorithm(string? value)
    {
        if (value is not null) HostConvAlgorithm.Active = HostConvAlgorithm.Parse(value, "--conv-algorithm");
        else _ = HostConvAlgorithm.Active;
    }

    /// <summary>
    /// Applies <paramref name="convAlgorithm"/> (<see cref="ApplyConvAlgorithm"/>), creates the device and says which one
    /// runs, on stderr so that --json output stays clean. <paramref name="memoryLimitBytes"/> caps the allocator (to
    /// rehearse out-of-memory handling).
    /// </summary>
    public static Device OpenDevice(string? name, string? convAlgorithm, long? memoryLimitBytes = null)
    {
        ApplyConvAlgorithm(convAlgorithm);
        var device = Engine.Device.Create(name, memoryLimitBytes);
        Console.Error.WriteLine($"device: {device.Name}" + (device.K.IsHost ? $", conv algorithm {HostConvAlgorithm.Active.ToString().ToLowerInvariant()}" : ""));
        return device;
    }
}
