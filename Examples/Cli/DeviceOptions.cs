using System.CommandLine;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Cli;

/// <summary>The options that choose where a command runs: `--device`, the host kernels' `--simd` level and `--conv-algorithm`.</summary>
public sealed class DeviceOptions
{
    public Option<string?> Device { get; } = new("--device")
    {
        Description = "auto (CUDA, then OpenCL, then cpu), cpu (SIMD host kernels), ilgpu-cpu (ILGPU kernels on the CPU accelerator), cuda, opencl " +
            $"or meta (counts memory, runs nothing); default from {Engine.Device.EnvironmentVariable}, else auto",
    };

    public Option<string?> Simd { get; } = new("--simd")
    {
        Description = "SIMD level of the host kernels (--device cpu): vector512, vector256 or scalar; default from REVNET_SIMD, else the widest this processor runs",
    };

    public Option<string?> ConvAlgorithm { get; } = new("--conv-algorithm")
    {
        Description = "cpu device, 3x3 stride-1 convolutions: auto (Winograd for the gradient passes where it measured faster, forwards direct), " +
            "fastest (Winograd where it measured faster, forwards too: more reconstruction drift), direct or winograd (every pass); " +
            $"default from {HostConvAlgorithm.EnvironmentVariable}, else auto",
    };

    public void AddTo(Command command)
    {
        command.Add(Device);
        command.Add(Simd);
        command.Add(ConvAlgorithm);
    }

    /// <summary>
    /// Sets the host convolution's algorithm (or checks REVNET_CONV_ALGORITHM when --conv-algorithm is absent, so a bad
    /// value stops the command before any work), creates the device and, when <paramref name="announce"/>, says which one
    /// runs, on stderr so that --json output stays clean. <paramref name="memoryLimitBytes"/> caps the allocator (to
    /// rehearse out-of-memory handling).
    /// </summary>
    public Device Open(ParseResult parse, long? memoryLimitBytes = null, bool announce = true)
    {
        var algorithm = parse.GetValue(ConvAlgorithm);
        HostConvAlgorithm.Active = algorithm is null ? HostConvAlgorithm.Active : HostConvAlgorithm.Parse(algorithm, "--conv-algorithm");
        var device = Engine.Device.Create(parse.GetValue(Device), memoryLimitBytes, parse.GetValue(Simd));
        if (announce)
            Console.Error.WriteLine($"device: {device.Name}" + (device.Backend is HostBackend ? $", conv algorithm {HostConvAlgorithm.Active.ToString().ToLowerInvariant()}" : ""));
        return device;
    }
}
