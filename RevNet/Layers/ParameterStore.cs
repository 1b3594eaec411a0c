using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// One device allocation for all learnable parameters, one for their gradients and one for buffers; every
/// <see cref="Parameter"/> gets slices of them. Weight-decayed parameters come first, so the optimizer is one
/// launch over <see cref="Values"/> with decay on the first <see cref="DecayedCount"/> elements. Each slice starts on a
/// 256-byte boundary (<see cref="AlignmentFloats"/>): GPU kernels load parameters in 16-byte words, which fault on a
/// misaligned address, and ILGPU's PTX backend assumes every view it is handed starts 256-byte aligned. The gaps
/// (<see cref="PaddingFloats"/>, zeros) cost at most 252 bytes per parameter in each of the three buffers, and in
/// the optimizer's momentum buffer of the same layout; the optimizer steps them as zeros.
/// </summary>
public sealed class ParameterStore : IDisposable
{
    /// <summary>Slices start at multiples of this many floats: 256 bytes.</summary>
    public const int AlignmentFloats = 64;

    readonly Dictionary<Parameter, long> offsets;

    ParameterStore(Tensor values, Tensor grads, Tensor buffers, int decayedCount, long parameterCount, Dictionary<Parameter, long> offsets,
        IReadOnlyList<(string, Parameter)> learnable, IReadOnlyList<(string, Parameter)> bufferList)
    {
        Values = values;
        Grads = grads;
        Buffers = buffers;
        DecayedCount = decayedCount;
        ParameterCount = parameterCount;
        this.offsets = offsets;
        Learnable = learnable;
        BufferList = bufferList;
    }

    /// <summary>Every learnable parameter in one flat float32 tensor, weight-decayed ones first; each <see cref="Parameter.Value"/> is a slice of it.</summary>
    public Tensor Values { get; }

    /// <summary>The gradients, laid out as <see cref="Values"/>; each parameter's <see cref="Tensor.Grad"/> is a slice of it. Starts at zero; backward accumulates into it.</summary>
    public Tensor Grads { get; }

    /// <summary>Every buffer (running statistics, scratch) in one flat tensor.</summary>
    public Tensor Buffers { get; }

    /// <summary>How many leading elements of <see cref="Values"/> get weight decay (conv and linear weights).</summary>
    public int DecayedCount { get; }

    /// <summary>Learnable parameters in storage order (decayed first), with their paths.</summary>
    public IReadOnlyList<(string Path, Parameter Parameter)> Learnable { get; }

    /// <summary>Buffers (running statistics, scratch) with their paths.</summary>
    public IReadOnlyList<(string Path, Parameter Parameter)> BufferList { get; }

    /// <summary>Learnable values (what a model's parameter count says), without the alignment gaps.</summary>
    public long ParameterCount { get; }

    /// <summary>Floats of alignment gaps in <see cref="Values"/> (and in <see cref="Grads"/>, which has the same layout).</summary>
    public long PaddingFloats => Values.Length - ParameterCount;

    /// <summary>Where <paramref name="parameter"/>'s values start in <see cref="Values"/> (or in <see cref="Buffers"/> for a buffer), in floats.</summary>
    public long Offset(Parameter parameter) => offsets[parameter];

    /// <summary>Allocates and initialises the parameters of <paramref name="model"/> on <paramref name="device"/>; draws depend only on <paramref name="seed"/>.</summary>
    public static ParameterStore Allocate(Device device, Module model, int seed)
    {
        var all = model.NamedParameters().ToList();
        var learnable = all.Where(p => p.Parameter.Learnable).OrderBy(p => p.Parameter.WeightDecay ? 0 : 1).ToList();
        var buffers = all.Where(p => !p.Parameter.Learnable).ToList();
        var offsets = new Dictionary<Parameter, long>();
        long count = Place(learnable, offsets, out long decayedEnd);
        long bufferCount = Place(buffers, offsets, out _);
        int decayed = checked((int)decayedEnd);

        var values = Tensor.Empty(device, checked((int)count));
        var grads = Tensor.Zeros(device, checked((int)count));
        var bufferTensor = Tensor.Empty(device, checked((int)Math.Max(bufferCount, 1)));
        // Initialise in declaration order so the draws do not depend on the storage order.
        var random = new Random(seed);
        var hostValues = new float[count];
        var hostBuffers = new float[bufferTensor.Length];
        foreach (var (path, p) in all)
        {
            var init = p.Init(p.Shape, random);
            if (init.Length != p.Length) throw new InvalidOperationException($"{path}: init produced {init.Length} values for shape [{string.Join(", ", p.Shape)}]");
            Array.Copy(init, 0, p.Learnable ? hostValues : hostBuffers, offsets[p], init.Length);
        }
        values.CopyFrom(hostValues);
        bufferTensor.CopyFrom(hostBuffers);
        foreach (var (path, p) in learnable)
        {
            p.value = values.Slice(offsets[p], p.Shape);
            p.value.Name = path;
            p.value.RequiresGrad = true;
            p.value.Grad = grads.Slice(offsets[p], p.Shape);
        }
        foreach (var (path, p) in buffers)
        {
            p.value = bufferTensor.Slice(offsets[p], p.Shape);
            p.value.Name = path;
        }
        return new ParameterStore(values, grads, bufferTensor, decayed, learnable.Sum(p => p.Parameter.Length), offsets, learnable, buffers);
    }

    /// <summary>
    /// Gives each parameter an offset on a 256-byte boundary, in order; returns the floats the buffer needs and, in
    /// <paramref name="decayedEnd"/>, the end of the weight-decayed ones (they come first).
    /// </summary>
    static long Place(List<(string Path, Parameter Parameter)> parameters, Dictionary<Parameter, long> offsets, out long decayedEnd)
    {
        long offset = 0;
        decayedEnd = 0;
        foreach (var (_, p) in parameters)
        {
            offsets[p] = offset;
            offset += p.Length;
            if (p.WeightDecay) decayedEnd = offset;
            offset = (offset + AlignmentFloats - 1) / AlignmentFloats * AlignmentFloats;
        }
        return offset;
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => Grads.FillZero();

    /// <summary>Releases the three allocations and every parameter's slices; the model's parameters are unallocated again.</summary>
    public void Dispose()
    {
        foreach (var (_, p) in Learnable.Concat(BufferList))
        {
            p.value?.Grad?.Release();
            p.value?.Release();
            p.value = null;
        }
        Values.Release();
        Grads.Release();
        Buffers.Release();
    }
}
