using System.Diagnostics;
using System.Reflection;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>Launch counts and synchronised wall time per kernel method, collected while <see cref="KernelContext.Profile"/> is set.</summary>
public sealed class KernelProfile
{
    readonly Dictionary<string, (long Launches, TimeSpan Time)> entries = new();

    /// <summary>Launches and wall time per kernel name.</summary>
    public IReadOnlyDictionary<string, (long Launches, TimeSpan Time)> Entries => entries;

    internal void Time(Accelerator accelerator, MethodInfo kernel, Action launch)
    {
        accelerator.Synchronize();
        var clock = Stopwatch.StartNew();
        launch();
        accelerator.Synchronize();
        string name = $"{kernel.DeclaringType?.Name}.{kernel.Name}" + (kernel.IsGenericMethod ? $"<{string.Join(",", kernel.GetGenericArguments().Select(ShortName))}>" : "");
        var (count, time) = entries.GetValueOrDefault(name);
        entries[name] = (count + 1, time + clock.Elapsed);
    }

    static string ShortName(Type t) => t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(ShortName))}>" : t.Name;
}
