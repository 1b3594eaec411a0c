using System.CommandLine;
using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Cli;

/// <summary>The options that choose where a command runs: `--device` and the host kernels' `--simd` level.</summary>
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

    public void AddTo(Command command)
    {
        command.Add(Device);
        command.Add(Simd);
    }

    /// <summary>
    /// Creates the device and, when <paramref name="announce"/>, says which one runs, on stderr so that --json output stays
    /// clean. <paramref name="memoryLimitBytes"/> caps the allocator (to rehearse out-of-memory handling).
    /// </summary>
    public Device Open(ParseResult parse, long? memoryLimitBytes = null, bool announce = true)
    {
        var device = Engine.Device.Create(parse.GetValue(Device), memoryLimitBytes, parse.GetValue(Simd));
        if (announce) Console.Error.WriteLine($"device: {device.Name}");
        return device;
    }
}
