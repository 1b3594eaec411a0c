using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// How a parameter's first values are drawn, given its shape and the model's seeded random source (draws then depend
/// only on the seed given to <see cref="ParameterStore.Allocate"/>). Built-in choices: <see cref="Parameter.Constant"/>,
/// <see cref="Parameter.KaimingNormalFanOut"/>, <see cref="Parameter.UniformFanIn"/>.
/// </summary>
public delegate float[] ParameterInit(int[] shape, Random random);

/// <summary>
/// A learnable tensor or a buffer (running statistics) declared by a module. Its memory is a slice of the
/// model's one parameter (or buffer) allocation, given out by <see cref="ParameterStore"/>.
/// </summary>
public sealed class Parameter(int[] shape, ParameterInit init, bool weightDecay, bool learnable, bool persistent)
{
    /// <summary>Dimensions, outermost first (PyTorch's layouts: conv weight [out, in, kh, kw], linear [out, in]).</summary>
    public int[] Shape { get; } = shape;

    /// <summary>Number of scalars.</summary>
    public long Length => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>
    /// How the first values are drawn when the model's parameters are allocated. Set it before
    /// <see cref="ParameterStore.Allocate"/> to choose a layer's initialisation, e.g. <c>conv.Weight.Init = Parameter.Constant(0f)</c>.
    /// </summary>
    public ParameterInit Init { get; set; } = init;

    /// <summary>SGD weight decay applies (conv and linear weights, as in the paper).</summary>
    public bool WeightDecay { get; } = weightDecay;

    /// <summary>False for buffers such as running statistics: no gradient, not optimised.</summary>
    public bool Learnable { get; } = learnable;

    /// <summary>False for scratch buffers that need not be checkpointed.</summary>
    public bool Persistent { get; } = persistent;

    /// <summary>The device memory; set when the model's parameters are allocated.</summary>
    public Tensor Value => value ?? throw new InvalidOperationException("parameters are not allocated yet: call ParameterStore.Allocate(device, model, seed) first");

    internal Tensor? value;

    /// <summary>Every value <paramref name="v"/> (batch norm's 1 and 0; 0 for a layer that should start as the identity's residual).</summary>
    public static ParameterInit Constant(float v) => (shape, _) =>
    {
        var a = new float[shape.Aggregate(1L, (x, d) => x * d)];
        Array.Fill(a, v);
        return a;
    };

    /// <summary>He (Kaiming) normal init, fan-out mode, for ReLU networks (as torchvision's ResNets).</summary>
    public static ParameterInit KaimingNormalFanOut => (shape, random) =>
    {
        long fanOut = shape[0] * shape.Skip(2).Aggregate(1L, (a, d) => a * d);
        double std = Math.Sqrt(2.0 / fanOut);
        var a = new float[shape.Aggregate(1L, (x, d) => x * d)];
        for (int i = 0; i < a.Length; i++)
        {
            // Box-Muller: a portable normal draw that depends only on the seed.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            a[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    };

    /// <summary>U(−1/√fanIn, 1/√fanIn), nn.Linear's default for weight and bias.</summary>
    public static ParameterInit UniformFanIn(int fanIn) => (shape, random) =>
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        var a = new float[shape.Aggregate(1L, (x, d) => x * d)];
        for (int i = 0; i < a.Length; i++) a[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return a;
    };
}
