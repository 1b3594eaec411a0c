using System.Text.Json;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// A planned step's launches as JSON for scripts/ptx_report.py: the GPU and the step, then one object per launch in order
/// with the kernel's file name as compile-kernels writes it (<see cref="KernelCatalog.FileName"/>), its specialisation,
/// grid, group, dynamic shared bytes, FLOPs and bytes, and for tiled GEMM launches each GEMM's shape, FLOPs, groups,
/// tiling, register tile and K depth (a tiled kernel's type arguments 3-5, a pair kernel's 3-5 and 9-11).
/// </summary>
public static class LaunchPlanJson
{
    /// <summary>The JSON text of one planned training step: the GPU, model, batch, image size and memory mode, then <paramref name="launches"/> in order.</summary>
    public static string Write(string model, int batch, int image, ActivationMemory memory, GpuProfile gpu, IReadOnlyList<LaunchRecord> launches) =>
        JsonSerializer.Serialize(new
        {
            gpu = gpu.Name,
            architecture = gpu.Architecture,
            multiprocessors = gpu.Multiprocessors,
            model,
            batch,
            image,
            memory = memory.Name(),
            launches = launches.Select(l => new
            {
                kernel = l.Name,
                shape = l.Shape,
                file = KernelCatalog.FileName(l.Kernel),
                specialisation = l.Specialisation,
                grid = new[] { l.Grid.X, l.Grid.Y, l.Grid.Z },
                group = new[] { l.Group.X, l.Group.Y, l.Group.Z },
                groups = l.Groups,
                dynamic_shared_bytes = l.DynamicSharedBytes,
                flops = l.Flops,
                bytes = l.Bytes,
                gemms = l.Gemms?.Select((g, i) => new
                {
                    shape = g.Shape,
                    flops = g.Flops,
                    groups = g.Groups,
                    tiling = l.Kernel.GetGenericArguments()[6 * i + 3].Name,
                    registers = l.Kernel.GetGenericArguments()[6 * i + 4].Name,
                    depth = l.Kernel.GetGenericArguments()[6 * i + 5].Name,
                }),
            }),
        }, new JsonSerializerOptions { WriteIndented = true });
}
