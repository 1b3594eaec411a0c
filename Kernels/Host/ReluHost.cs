namespace RevNetIlgpu.Kernels.Host;

/// <summary>Host form of <see cref="ReluKernels"/>: y = max(x, 0) (NaN stays NaN); gx = gy where x (or y) &gt; 0, else 0.</summary>
public static class ReluHost
{
    public struct ForwardOp : ElementwiseHost.IUnaryOp
    {
        public T Invoke<T>(T x) where T : struct, IFloatLanes<T> => T.Max(x, T.Zero);
    }

    /// <summary>a is x or y, b is gy.</summary>
    public struct BackwardOp : ElementwiseHost.IBinaryOp
    {
        public T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => T.WherePositive(a, b);
    }

    /// <summary>y = max(x, 0); y may be x.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseHost.Map(new ForwardOp(), x, y);

    /// <summary>gx = gy where xOrY &gt; 0, else 0 (overwritten); gx may be gy.</summary>
    public static void Backward(ReadOnlySpan<float> xOrY, ReadOnlySpan<float> gy, Span<float> gx) => ElementwiseHost.Zip(new BackwardOp(), xOrY, gy, gx);
}
