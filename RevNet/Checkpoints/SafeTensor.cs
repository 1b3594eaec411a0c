namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>One named tensor of a safetensors file: its element type, shape and row-major data.</summary>
public sealed class SafeTensor
{
    private SafeTensor(string name, SafeTensorDType dtype, int[] shape, Array data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensorsHeader.MetadataKey)
            throw new ArgumentException($"'{name}' is reserved for metadata", nameof(name));
        if (shape.Any(d => d < 0))
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] of '{name}' has a negative dimension", nameof(shape));
        long elements = shape.Aggregate(1L, (product, d) => checked(product * d));
        if (elements != data.LongLength)
            throw new ArgumentException($"'{name}' has {data.LongLength} elements but shape [{string.Join(", ", shape)}] needs {elements}");
        Name = name;
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>The tensor's key in the file.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The elements: a float[] for F32, a long[] for I64.</summary>
    public Array Data { get; }

    /// <summary>A float32 tensor.</summary>
    public static SafeTensor F32(string name, int[] shape, float[] data) => new(name, SafeTensorDType.F32, shape, data);

    /// <summary>A signed 64-bit integer tensor.</summary>
    public static SafeTensor I64(string name, int[] shape, long[] data) => new(name, SafeTensorDType.I64, shape, data);

    /// <summary>The data as float[]; throws if this is not an F32 tensor.</summary>
    public float[] AsF32() => Data as float[] ?? throw new InvalidOperationException($"tensor '{Name}' is {DType}, not F32");

    /// <summary>The data as long[]; throws if this is not an I64 tensor.</summary>
    public long[] AsI64() => Data as long[] ?? throw new InvalidOperationException($"tensor '{Name}' is {DType}, not I64");

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => sizeof(float),
        SafeTensorDType.I64 => sizeof(long),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Bytes of data: elements times element size.</summary>
    public long ByteLength => Data.LongLength * ElementSize(DType);
}
