using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Element-wise arithmetic over equal-length views of any shape, each op's arithmetic written once as an operator struct
/// (<see cref="IUnaryOp"/>, <see cref="IBinaryOp"/>, Ops/ElementwiseOps.cs) that both backends run, so `cpu` and
/// `ilgpu-cpu` give the same bits. Each element is read before it is written, so an output may be one of the inputs
/// (y == a). <see cref="CountNonFinite"/> counts NaN and ±Inf for training-time checks.
/// </summary>
public abstract class ElementwiseKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = op(x) element by element; y may be x. Counted (and profiled) under the op's name, e.g. "ElementwiseKernels.ExpOp".</summary>
    public void Map<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp
    {
        ShapeCheck.Length(OpName<TOp>.Value, "y", y.Length, x.Length);
        Enter(typeof(TOp).Name);
        MapCore(op, x, y);
    }

    /// <summary>y = op(a, b) element by element; y may be a or b.</summary>
    public void Zip<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp
    {
        ShapeCheck.Length(OpName<TOp>.Value, "b", b.Length, a.Length);
        ShapeCheck.Length(OpName<TOp>.Value, "y", y.Length, a.Length);
        Enter(typeof(TOp).Name);
        ZipCore(op, a, b, y);
    }

    /// <summary>y = a + b.</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => Zip(new AddOp(), a, b, y);

    /// <summary>y = a - b.</summary>
    public void Subtract(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => Zip(new SubtractOp(), a, b, y);

    /// <summary>y = a * b.</summary>
    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => Zip(new MultiplyOp(), a, b, y);

    /// <summary>y += alpha * x.</summary>
    public void Axpy(float alpha, ArrayView<float> x, ArrayView<float> y) => Zip(new AxpyOp(alpha), x, y, y);

    /// <summary>y = alpha * x.</summary>
    public void Scale(ArrayView<float> x, float alpha, ArrayView<float> y) => Map(new ScaleOp(alpha), x, y);

    /// <summary>y = exp(x) (<see cref="ExpOp"/>).</summary>
    public void Exp(ArrayView<float> x, ArrayView<float> y) => Map(new ExpOp(), x, y);

    /// <summary>y = x.</summary>
    public void Copy(ArrayView<float> x, ArrayView<float> y) => Map(new CopyOp(), x, y);

    /// <summary>Every element of y = value.</summary>
    public void Fill(ArrayView<float> y, float value) => Map(new FillOp(value), y, y);

    /// <summary>count[0] = the number of NaN or ±Inf elements of x (count is one int).</summary>
    public void CountNonFinite(ArrayView<float> x, ArrayView<int> count)
    {
        ShapeCheck.Length("count non-finite", "count", count.Length, 1);
        Enter();
        CountNonFiniteCore(x, count);
    }

    /// <summary>The backend's form of <see cref="Map{TOp}"/>: arguments already checked.</summary>
    protected abstract void MapCore<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp;

    /// <summary>The backend's form of <see cref="Zip{TOp}"/>: arguments already checked.</summary>
    protected abstract void ZipCore<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp;

    /// <summary>The backend's form of <see cref="CountNonFinite"/>: arguments already checked.</summary>
    protected abstract void CountNonFiniteCore(ArrayView<float> x, ArrayView<int> count);

    /// <summary>An operator struct's name for messages: "AxpyOp" → "axpy", "ReluBackwardOp" → "relu backward".</summary>
    static class OpName<TOp>
    {
        public static readonly string Value = Words(typeof(TOp).Name.EndsWith("Op", StringComparison.Ordinal) ? typeof(TOp).Name[..^2] : typeof(TOp).Name);

        static string Words(string name) =>
            string.Concat(name.Select((ch, i) => char.IsUpper(ch) && i > 0 ? " " + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
    }
}
