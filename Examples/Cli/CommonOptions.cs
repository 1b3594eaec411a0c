using System.CommandLine;
using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Cli;

/// <summary>Options every command shares.</summary>
public static class CommonOptions
{
    public static Option<string?> Device() => new("--device")
    {
        Description = "auto (CUDA, then OpenCL, then cpu), cpu (SIMD host kernels), ilgpu-cpu (ILGPU kernels on the CPU accelerator), cuda, opencl " +
            $"or meta (counts memory, runs nothing); default from {Engine.Device.EnvironmentVariable}, else auto",
    };

    /// <summary>
    /// Creates the device and says which one runs, on stderr so that --json output stays clean.
    /// <paramref name="memoryLimitBytes"/> caps the allocator (to rehearse out-of-memory handling).
    /// </summary>
    public static Device OpenDevice(string? name, long? memoryLimitBytes = null)
    {
        var device = Engine.Device.Create(name, memoryLimitBytes);
        Console.Error.WriteLine($"device: {device.Name}");
        return device;
    }
}
