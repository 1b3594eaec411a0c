using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Element-wise arithmetic over equal-length views of any shape. Each element is read before it is written by the same thread,
/// so an output may be one of the inputs (y == a). <see cref="CountNonFinite"/> counts NaN and ±Inf for training-time checks.
/// </summary>
public static class ElementwiseKernels
{
    /// <summary>A per-element function of one value; its fields are launch-time constants. The ops are public because ILGPU marshals kernel argument types by reflection.</summary>
    public interface IUnaryOp
    {
        float Apply(float x);
    }

    /// <summary>A per-element function of two values.</summary>
    public interface IBinaryOp
    {
        float Apply(float a, float b);
    }

    public struct AddOp : IBinaryOp { public float Apply(float a, float b) => a + b; }

    public struct SubtractOp : IBinaryOp { public float Apply(float a, float b) => a - b; }

    public struct MultiplyOp : IBinaryOp { public float Apply(float a, float b) => a * b; }

    /// <summary>b + Alpha*a: with b the output, y += alpha*x.</summary>
    public struct AxpyOp : IBinaryOp
    {
        public float Alpha;
        public float Apply(float a, float b) => b + Alpha * a;
    }

    public struct ScaleOp : IUnaryOp
    {
        public float Alpha;
        public float Apply(float x) => Alpha * x;
    }

    public struct ExpOp : IUnaryOp { public float Apply(float x) => XMath.Exp(x); }

    public struct CopyOp : IUnaryOp { public float Apply(float x) => x; }

    public struct FillOp : IUnaryOp
    {
        public float Value;
        public float Apply(float x) => Value;
    }

    static void MapKernel<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = op.Apply(x[i]);
    }

    static void ZipKernel<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = op.Apply(a[i], b[i]);
    }

    static void CountNonFiniteKernel(ArrayView<float> x, ArrayView<int> count)
    {
        int local = 0;
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
            if ((Interop.FloatAsInt(x[i]) & 0x7F800000u) == 0x7F800000u) local++; // all-ones exponent: NaN or ±Inf
        // Integer addition is exact and associative, so the atomic total is the same on every run.
        if (local != 0) Atomic.Add(ref count[0], local);
    }

    /// <summary>y = a + b.</summary>
    public static void Add(KernelContext k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        CheckZip("add", a, b, y);
        if (k.DispatchToHost()) { ElementwiseHost.Add(HostMemory.Span(a), HostMemory.Span(b), HostMemory.Span(y)); return; }
        Zip(k, new AddOp(), a, b, y);
    }

    /// <summary>y = a - b.</summary>
    public static void Subtract(KernelContext k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        CheckZip("subtract", a, b, y);
        if (k.DispatchToHost()) { ElementwiseHost.Subtract(HostMemory.Span(a), HostMemory.Span(b), HostMemory.Span(y)); return; }
        Zip(k, new SubtractOp(), a, b, y);
    }

    /// <summary>y = a * b.</summary>
    public static void Multiply(KernelContext k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        CheckZip("multiply", a, b, y);
        if (k.DispatchToHost()) { ElementwiseHost.Multiply(HostMemory.Span(a), HostMemory.Span(b), HostMemory.Span(y)); return; }
        Zip(k, new MultiplyOp(), a, b, y);
    }

    /// <summary>y += alpha * x.</summary>
    public static void Axpy(KernelContext k, float alpha, ArrayView<float> x, ArrayView<float> y)
    {
        CheckZip("axpy", x, y, y);
        if (k.DispatchToHost()) { ElementwiseHost.Axpy(alpha, HostMemory.Span(x), HostMemory.Span(y)); return; }
        Zip(k, new AxpyOp { Alpha = alpha }, x, y, y);
    }

    /// <summary>y = alpha * x.</summary>
    public static void Scale(KernelContext k, ArrayView<float> x, float alpha, ArrayView<float> y)
    {
        CheckMap("scale", x, y);
        if (k.DispatchToHost()) { ElementwiseHost.Scale(HostMemory.Span(x), alpha, HostMemory.Span(y)); return; }
        Map(k, new ScaleOp { Alpha = alpha }, x, y);
    }

    /// <summary>y = exp(x).</summary>
    public static void Exp(KernelContext k, ArrayView<float> x, ArrayView<float> y)
    {
        CheckMap("exp", x, y);
        if (k.DispatchToHost()) { ElementwiseHost.Exp(HostMemory.Span(x), HostMemory.Span(y)); return; }
        Map(k, new ExpOp(), x, y);
    }

    /// <summary>y = x.</summary>
    public static void Copy(KernelContext k, ArrayView<float> x, ArrayView<float> y)
    {
        CheckMap("copy", x, y);
        if (k.DispatchToHost()) { ElementwiseHost.Copy(HostMemory.Span(x), HostMemory.Span(y)); return; }
        Map(k, new CopyOp(), x, y);
    }

    /// <summary>Every element of y = value.</summary>
    public static void Fill(KernelContext k, ArrayView<float> y, float value)
    {
        if (k.DispatchToHost()) { ElementwiseHost.Fill(HostMemory.Span(y), value); return; }
        Map(k, new FillOp { Value = value }, y, y);
    }

    /// <summary>count[0] = the number of NaN or ±Inf elements of x (count is one int).</summary>
    public static void CountNonFinite(KernelContext k, ArrayView<float> x, ArrayView<int> count)
    {
        ShapeCheck.Length("count non-finite", "count", count.Length, 1);
        if (k.DispatchToHost()) { HostMemory.Span(count)[0] = ElementwiseHost.CountNonFinite(HostMemory.Span(x)); return; }
        count.MemSetToZero();
        k.Load<ArrayView<float>, ArrayView<int>>(CountNonFiniteKernel)(k.GridStride(x.Length), x, count);
    }

    static void CheckMap(string op, ArrayView<float> x, ArrayView<float> y) => ShapeCheck.Length(op, "y", y.Length, x.Length);

    static void CheckZip(string op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        ShapeCheck.Length(op, "b", b.Length, a.Length);
        ShapeCheck.Length(op, "y", y.Length, a.Length);
    }

    static void Map<TOp>(KernelContext k, TOp f, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp =>
        k.Load<TOp, ArrayView<float>, ArrayView<float>>(MapKernel)(k.GridStride(y.Length), f, x, y);

    static void Zip<TOp>(KernelContext k, TOp f, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp =>
        k.Load<TOp, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ZipKernel)(k.GridStride(y.Length), f, a, b, y);
}
