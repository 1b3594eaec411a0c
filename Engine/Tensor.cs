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

    /// <summary>The device whose memory holds this tensor and whose kernels compute on it.</summary>
    public Device Device { get; }

    /// <summary>Sizes per dimension, outermost first (NCHW for images); do not modify the array.</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements: the product of <see cref="Shape"/>.</summary>
    public long Length { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Whether gradients flow back to this tensor (parameters and everything computed from them).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>For parameters: the gradient slice in the one gradient buffer; kernels accumulate into it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>A name for messages (parameters get their model path, e.g. "stage1.0.F.conv1.weight").</summary>
    public string? Name { get; set; }

    /// <summary>True once the last reference was released: the memory is back with the allocator and any use throws.</summary>
    public bool IsReleased => references <= 0;

    /// <summary>True when the caller's reference is the only one to memory this tensor owns: it may be overwritten in place.</summary>
    internal bool IsExclusive => references == 1 && block is not null;

    /// <summary>The size of dimension <paramref name="dim"/>.</summary>
    public int this[int dim] => Shape[dim];

    /// <summary>The shape for messages, e.g. "[64, 16, 28, 28]".</summary>
    public string ShapeString => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Uninitialised tensor of the given shape.</summary>
    public static Tensor Empty(Device device, params int[] shape) =>
        new(device, shape, device.Allocator.Allocate(CheckedLength(shape) * sizeof(float)), null, 0);

    /// <summary>A new tensor of the given shape filled with zeros; the caller owns it (dispose it).</summary>
    public static Tensor Zeros(Device device, params int[] shape)
    {
        var t = Empty(device, shape);
        t.FillZero();
        return t;
    }

    /// <summary>A new float tensor of <paramref name="shape"/> holding <paramref name="data"/> (row-major); the caller owns it.</summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly <c>data.Length</c> values.</exception>
    public static Tensor FromArray(Device device, float[] data, params int[] shape)
    {
        if (CheckedLength(shape) != data.Length)
            throw new ArgumentException($"tensor: shape [{string.Join(", ", shape)}] needs {CheckedLength(shape)} values, got {data.Length}");
        var t = Empty(device, shape);
        t.CopyFrom(data);
        return t;
    }

    /// <summary>A new int32 tensor (e.g. class labels) of <paramref name="shape"/> holding <paramref name="data"/>; read it through <see cref="IntView"/>. The caller owns it.</summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly <c>data.Length</c> values.</exception>
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

    /// <summary>The elements as float32 in device memory, for kernels. Throws if released, or on the meta device (no data).</summary>
    public ArrayView<float> View => RootBlock().View.Cast<float>().SubView(offset, Length);

    /// <summary>The elements as int32 in device memory (tensors made from <c>int[]</c>). Throws if released, or on the meta device.</summary>
    public ArrayView<int> IntView => RootBlock().View.Cast<int>().SubView(offset, Length);

    /// <summary>Takes one more reference (as the tape does for each saved use); each needs its own <see cref="Release"/>. Returns this tensor.</summary>
    public Tensor Retain()
    {
        ThrowIfReleased();
        references++;
        return this;
    }

    /// <summary>Drops one reference; the last one returns the memory to the allocator (a slice releases its parent). Throws <see cref="ObjectDisposedException"/> if already released.</summary>
    public void Release()
    {
        ThrowIfReleased();
        if (--references > 0) return;
        if (block is not null) Device.Allocator.Free(block);
        parent?.Release();
    }

    /// <summary>Releases the caller's reference unless the tensor is already released, so <c>using</c> is safe after an explicit <see cref="Release"/>.</summary>
    public void Dispose()
    {
        if (!IsReleased) Release();
    }

    // Memory moves through the backend: spans on `cpu`, accelerator copies elsewhere, nothing on meta (reads give zeros).

    /// <summary>Sets every element to zero.</summary>
    public void FillZero() => Device.Run(k => k.Memory.Zero(View));

    /// <summary>Overwrites the elements with <paramref name="data"/> (host to device).</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not <see cref="Length"/> long.</exception>
    public void CopyFrom(float[] data)
    {
        if (data.Length != Length) throw new ArgumentException($"copy: tensor {ShapeString} has {Length} elements, the array {data.Length}");
        Device.Run(k => k.Memory.Upload<float>(data, View));
    }

    /// <summary>The float32 elements copied to a new host array, after queued kernels finish; zeros on the meta device.</summary>
    public float[] ToArray()
    {
        var data = new float[Length];
        Device.Run(k => k.Memory.Download(View, data.AsSpan()));
        return data;
    }

    /// <summary>The int32 elements copied to a new host array, after queued kernels finish; zeros on the meta device.</summary>
    public int[] ToIntArray()
    {
        var data = new int[Length];
        Device.Run(k => k.Memory.Download(IntView, data.AsSpan()));
        return data;
    }

    /// <inheritdoc/>
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
