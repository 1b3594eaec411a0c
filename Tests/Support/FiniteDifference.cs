namespace RevNetIlgpu.Tests.Support;

/// <summary>Central-difference gradients in float64, the independent check on every backward kernel.</summary>
public static class FiniteDifference
{
    /// <summary>
    /// d/dx_i of Σ_j gy_j·forward(x)_j for every i: the vector-Jacobian product a backward pass computes.
    /// h = 1e-6 keeps float64 truncation (~h²) and rounding (~1e-16/h) errors both near 1e-10.
    /// </summary>
    public static double[] Gradient(Func<double[], double[]> forward, double[] x, double[] gy, double h = 1e-6)
    {
        var g = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            double up = Dot(gy, forward(probe));
            probe[i] = x[i] - h;
            double down = Dot(gy, forward(probe));
            probe[i] = x[i];
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
