using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// Convolution in float64 by plain loops: the yardstick of the error column of `revnet bench kernels` (the tests keep
/// their own, independent oracle). Forward y = conv2d(x, w), and for loss = Σ y·gy the gradients gx and gw.
/// </summary>
public static class Conv2dFloat64Reference
{
    /// <summary>y = conv2d(x, w) in float64 loops.</summary>
    public static double[] Forward(Conv2dShape s, float[] x, float[] w)
    {
        var y = new double[(long)s.N * s.K * s.OutH * s.OutW];
        ForEachTap(s, (xi, wi, yi) => y[yi] += (double)x[xi] * w[wi]);
        return y;
    }

    /// <summary>dL/dx from dL/dy in float64 loops.</summary>
    public static double[] BackwardInput(Conv2dShape s, float[] gy, float[] w)
    {
        var gx = new double[(long)s.N * s.C * s.H * s.W];
        ForEachTap(s, (xi, wi, yi) => gx[xi] += (double)gy[yi] * w[wi]);
        return gx;
    }

    /// <summary>dL/dw from x and dL/dy in float64 loops.</summary>
    public static double[] BackwardWeight(Conv2dShape s, float[] x, float[] gy)
    {
        var gw = new double[(long)s.K * s.C * s.KH * s.KW];
        ForEachTap(s, (xi, wi, yi) => gw[wi] += (double)gy[yi] * x[xi]);
        return gw;
    }

    /// <summary>max |actual − expected| / max |expected|, the error measure of the tests and golden cases.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double largest = 1e-30, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(expected[i]));
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }
        return worst / largest;
    }

    /// <summary>Calls <paramref name="tap"/>(x index, w index, y index) for every product of the convolution that lands inside x.</summary>
    static void ForEachTap(Conv2dShape s, Action<long, long, long> tap)
    {
        for (int n = 0; n < s.N; n++)
        for (int k = 0; k < s.K; k++)
        for (int oh = 0; oh < s.OutH; oh++)
        for (int ow = 0; ow < s.OutW; ow++)
        {
            long yi = (((long)n * s.K + k) * s.OutH + oh) * s.OutW + ow;
            for (int c = 0; c < s.C; c++)
            for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
            {
                int ih = oh * s.Stride - s.Pad + kh, iw = ow * s.Stride - s.Pad + kw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                tap((((long)n * s.C + c) * s.H + ih) * s.W + iw, (((long)k * s.C + c) * s.KH + kh) * s.KW + kw, yi);
            }
        }
    }
}
