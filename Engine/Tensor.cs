using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Engine;

/// <summary>
/// A float32 (or int32) array in device memory with an NCHW-style shape. Memory is reference counted:
/// the creator holds one reference, the tape takes one per saved use (<see cref="Retain"/>), and the
/// block returns to the allocator the moment the last <see cref="Release"/> happens — memory saved only
/// on paper is not saved. A slice (e.g. a parameter inside the one parameter buffer) owns no memory.
/// </summary>
public sealed class Tensor : IDisposable
{
    readonly DeviceBlock? block;
    readonly Tensor? parent;
    readonly long offset;
    int references = 1;

    Tensor(Device device, int[] shape, DeviceBlock? block, Tensor? parent, long offset)
    {
        Device = device;
        Shape = shape;
        Length = CheckedLength(shape);
        this.block = block;
        this.parent = parent;
        this.offset = offset;
    }

    public Device Device { get; }

    public int[] Shape { get; }

    public long Length { get; }

    public int Rank => Shape.Length;

    /// <summary>Whether gradients flow back to this tensor (parameters and everything computed from them).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>For parameters: the gradient slice in the one gradient buffer; kernels accumulate into it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>A name for messages (parameters get their model path, e.g. "stage1.0.F.conv1.weight").</summary>
    public string? Name { get; set; }

    public bool IsReleased => references <= 0;

    /// <summary>True when the caller's reference is the only one to memory this tensor owns: it may be overwritten in place.</summary>
    internal bool IsExclusive => references == 1 && block is not null;

    public int this[int dim] => Shape[dim];

    public string ShapeString => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Uninitialised tensor of the given shape.</summary>
    public static Tensor Empty(Device device, params int[] shape) =>
        new(device, shape, device.Allocator.Allocate(CheckedLength(shape) * sizeof(float)), null, 0);

    public static Tensor Zeros(Device device, params int[] shape)
    {
        var t = Empty(device, shape);
        t.FillZero();
        return t;
    }

    public static Tensor FromArray(Device device, float[] data, params int[] shape)
    {
        if (CheckedLength(shape) != data.Length)
            throw new ArgumentException($"tensor: shape [{string.Join(", ", shape)}] needs {CheckedLength(shape)} values, got {data.Length}");
        var t = Empty(device, shape);
        t.CopyFrom(data);
        return t;
    }

    public static Tensor FromArray(Device device, int[] data, params int[] shape)
    {
        if (CheckedLength(shape) != data.Length)
            throw new ArgumentException($"tensor: shape [{string.Join(", ", shape)}] needs {CheckedLength(shape)} values, got {data.Length}");
        var t = Empty(device, shape);
        device.Run(k => k.Memory.Upload<int>(data, t.IntView));
        return t;
    }

    /// <summary>A view of <paramref name="shape"/> starting <paramref name="elementOffset"/> elements into this tensor (offsets are
    /// kept relative to the owning block); owns no memory of its own.</summary>
    public Tensor Slice(long elementOffset, params int[] shape)
    {
        long length = CheckedLength(shape);
        if (elementOffset < 0 || elementOffset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(elementOffset), $"slice [{elementOffset}, {elementOffset + length}) outside a tensor of {Length} elements");
        Retain(); // a slice keeps its parent's memory alive until the slice is released
        return new Tensor(Device, shape, null, this, offset + elementOffset);
    }

    /// <summary>The same memory under another shape of equal length; shares this tensor's lifetime.</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (CheckedLength(shape) != Length)
            throw new ArgumentException($"reshape: {ShapeString} has {Length} elements, [{string.Join(", ", shape)}] needs {CheckedLength(shape)}");
        return Slice(0, shape);
    }

    public ArrayView<float> View => RootBlock().View.Cast<float>().SubView(offset, Length);

    public ArrayView<int> IntView => RootBlock().View.Cast<int>().SubView(offset, Length);

    public Tensor Retain()
    {
        ThrowIfReleased();
        references++;
        return this;
    }

    public void Release()
    {
        ThrowIfReleased();
        if (--references > 0) return;
        if (block is not null) Device.Allocator.Free(block);
        parent?.Release();
    }

    public void Dispose()
    {
        if (!IsReleased) Release();
    }

    // Memory moves through the backend: spans on `cpu`, accelerator copies elsewhere, nothing on meta (reads give zeros).

    public void FillZero() => Device.Run(k => k.Memory.Zero(View));

    public void CopyFrom(float[] data)
    {
        if (data.Length != Length) throw new ArgumentException($"copy: tensor {ShapeString} has {Length} elements, the array {data.Length}");
        Device.Run(k => k.Memory.Upload<float>(data, View));
    }

    public float[] ToArray()
    {
        var data = new float[Length];
        Device.Run(k => k.Memory.Download(View, data.AsSpan()));
        return data;
    }

    public int[] ToIntArray()
    {
        var data = new int[Length];
        Device.Run(k => k.Memory.Download(IntView, data.AsSpan()));
        return data;
    }

    public override string ToString() => $"{Name ?? "tensor"}{ShapeString}";

    DeviceBlock RootBlock()
    {
        ThrowIfReleased();
        var root = block ?? parent!.RootBlock();
        return root.Segment?.Buffer is null ? throw new InvalidOperationException($"{Device.Name} holds no data") : root;
    }

    void ThrowIfReleased()
    {
        if (references <= 0) throw new ObjectDisposedException(ToString(), "tensor used after its memory was released");
    }

    static long CheckedLength(int[] shape)
    {
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor: negative dimension in shape [{string.Join(", ", shape)}]");
            length = checked(length * d);
        }
        return length;
    }
}
