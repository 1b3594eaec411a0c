using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// What a launch costs, as the launcher computes it from the shapes: floating-point operations (a multiply-add counts
/// two) and the bytes it must move at least (every view it reads read once, every view it writes written once; reads
/// that caches serve, such as im2col's nine reads of each input value, are not counted). <paramref name="Shape"/>
/// describes the problem where a report needs more than the kernel's name (a GEMM's M, N, K and what it computes).
/// </summary>
public readonly record struct LaunchCost(long Flops, long Bytes, string? Shape = null, IReadOnlyList<GemmPart>? Gemms = null)
{
    /// <summary>A pass over <paramref name="elements"/> floats doing <paramref name="flopsPerElement"/> operations each, reading <paramref name="reads"/> and writing <paramref name="writes"/> arrays of that size.</summary>
    public static LaunchCost Elementwise(long elements, int flopsPerElement, int reads, int writes) =>
        new(elements * flopsPerElement, elements * sizeof(float) * (reads + writes));
}

/// <summary>One GEMM of a tiled launch (a pair launch runs two): what it computes, its FLOPs and groups.</summary>
public sealed record GemmPart(string Shape, long Flops, long Groups);

/// <summary>
/// One kernel launch as the ILGPU backend made it (or, planning, would make it): the kernel method (closed over its
/// type arguments: the specialisation), the grid and group, the dynamic shared memory, and its <see cref="LaunchCost"/>.
/// </summary>
public sealed record LaunchRecord(MethodInfo Kernel, Index3D Grid, Index3D Group, int DynamicSharedBytes, long Flops, long Bytes, string? Shape,
    IReadOnlyList<GemmPart>? Gemms)
{
    /// <summary>"Class.Method", without type arguments.</summary>
    public string Name => $"{Kernel.DeclaringType!.Name}.{Kernel.Name}";

    /// <summary>The type arguments the kernel is closed over, e.g. "Im2colTriplets&lt;…&gt;,…,Tile16x256,RegisterTile4x8,Depth12"; empty for a plain kernel.</summary>
    public string Specialisation => Kernel.IsGenericMethod ? string.Join(",", Kernel.GetGenericArguments().Select(TypeName)) : "";

    /// <summary>Groups the launch starts.</summary>
    public long Groups => (long)Grid.X * Grid.Y * Grid.Z;

    /// <summary>Threads per group.</summary>
    public int GroupThreads => Group.X * Group.Y * Group.Z;

    /// <summary>A type's name with its type arguments, as C# writes it.</summary>
    public static string TypeName(Type t) =>
        t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(TypeName))}>" : t.Name;
}

/// <summary>Where one view handed to a kernel starts in its buffer: GPU loads of 16 bytes need 16-byte aligned addresses, and ILGPU assumes 256.</summary>
public sealed record ViewRecord(MethodInfo Kernel, string Argument, long ByteOffset, long Bytes);

/// <summary>
/// Collects launches while it is attached to a <see cref="KernelContext"/> (<see cref="KernelContext.Recorder"/>): the
/// launch list of a step for `revnet bench step --json`, a GPU plan for ptx-check, and (with <see cref="RecordViews"/>) every
/// view handed to a kernel, for the alignment test.
/// </summary>
public sealed class LaunchRecorder
{
    readonly List<LaunchRecord> launches = [];
    readonly List<ViewRecord> views = [];
    readonly object gate = new();

    /// <summary>Also record the offset of every view in every launch's arguments (slower: it walks them by reflection).</summary>
    public bool RecordViews { get; init; }

    /// <summary>The launches recorded so far, in order.</summary>
    public IReadOnlyList<LaunchRecord> Launches
    {
        get { lock (gate) return launches.ToList(); }
    }

    /// <summary>Every view of every recorded launch (with <see cref="RecordViews"/>).</summary>
    public IReadOnlyList<ViewRecord> Views
    {
        get { lock (gate) return views.ToList(); }
    }

    internal void Add(MethodInfo kernel, KernelConfig config, LaunchCost cost, object?[] arguments)
    {
        var record = new LaunchRecord(kernel, config.GridDim, config.GroupDim, config.SharedMemoryConfig.ArraySize, cost.Flops, cost.Bytes, cost.Shape, cost.Gemms);
        List<ViewRecord>? found = null;
        if (RecordViews)
        {
            found = [];
            var parameters = kernel.GetParameters();
            for (int i = 0; i < arguments.Length; i++)
                foreach (var (path, offset, bytes) in KernelViews.Walk(arguments[i], parameters[i].Name ?? $"arg{i}"))
                    found.Add(new ViewRecord(kernel, path, offset, bytes));
        }
        lock (gate)
        {
            launches.Add(record);
            if (found is not null) views.AddRange(found);
        }
    }
}

/// <summary>Finds the array views inside a kernel argument (views, or structs holding views at any depth) by reflection.</summary>
static class KernelViews
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, FieldInfo[]> fields = new();

    public static IEnumerable<(string Path, long ByteOffset, long Bytes)> Walk(object? value, string path)
    {
        if (value is null) yield break;
        if (value is IContiguousArrayView view)
        {
            if (view.IsValid && view.Length > 0) yield return (path, view.IndexInBytes, view.LengthInBytes);
            yield break;
        }
        var type = value.GetType();
        if (!type.IsValueType || type.IsPrimitive || type.IsEnum) yield break;
        foreach (var field in fields.GetOrAdd(type, t => t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)))
            foreach (var inner in Walk(field.GetValue(value), $"{path}.{field.Name}"))
                yield return inner;
    }
}
