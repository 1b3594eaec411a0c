using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>Runs its children in order, releasing each intermediate as soon as the next child has consumed it.</summary>
public sealed class Sequential : Module
{
    readonly List<Module> layers = new();

    /// <summary>A sequence of <paramref name="modules"/>, named "0", "1", ... in the state dict.</summary>
    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Append(m);
    }

    /// <summary>The children in the order they run.</summary>
    public IReadOnlyList<Module> Layers => layers;

    /// <summary>Adds <paramref name="module"/> at the end, named by its index; returns this sequence.</summary>
    public Sequential Append(Module module) => Append(layers.Count.ToString(), module);

    /// <summary>Adds <paramref name="module"/> at the end under <paramref name="name"/> (its state-dict prefix); returns this sequence.</summary>
    public Sequential Append(string name, Module module)
    {
        layers.Add(Add(name, module));
        return this;
    }

    /// <summary>
    /// Run each BatchNorm2d-ReLU-Conv2d in a row as one op that keeps only the batch norm's input for backward and
    /// recomputes the rest (<see cref="BatchNorm2d.ForwardThroughReluConv"/>): same results, two fewer saved tensors per
    /// triple, one more normalisation in backward. A BatchNorm2d-ReLU pair not followed by a convolution (a stem's, a
    /// head's) runs as one fused op too (<see cref="BatchNorm2d.ForwardThroughRelu"/>): two fewer saved tensors, and one
    /// launch each way instead of two and three. Off by default; reconstructing networks turn it on. Batch norms synchronised
    /// across ranks run unfused (their backward sums over all ranks).
    /// </summary>
    public bool RecomputeBatchNormRelu { get; set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (layers.Count == 0) return x.Retain();
        Tensor current = x;
        for (int i = 0; i < layers.Count; i++)
        {
            Tensor next;
            if (RecomputeBatchNormRelu && i + 2 < layers.Count && layers[i] is BatchNorm2d { SyncAcross: null } bn && layers[i + 1] is ReLU && layers[i + 2] is Conv2d conv)
            {
                next = bn.ForwardThroughReluConv(current, conv);
                i += 2;
            }
            else if (RecomputeBatchNormRelu && i + 1 < layers.Count && layers[i] is BatchNorm2d { SyncAcross: null } lone && layers[i + 1] is ReLU)
            {
                next = lone.ForwardThroughRelu(current);
                i += 1;
            }
            else
            {
                next = layers[i].Forward(current);
            }
            if (!ReferenceEquals(current, x)) current.Release();
            current = next;
        }
        return current;
    }
}
