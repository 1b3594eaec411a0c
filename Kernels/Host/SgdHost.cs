namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="SgdKernels"/>: PyTorch SGD with momentum over the flat parameter buffer. Elements before
/// decayedCount get weight decay, the rest (BN gamma/beta, biases) none; blocks run in parallel.
/// </summary>
public static class SgdHost
{
    /// <summary>d = g + wd·w (i &lt; decayedCount); buf = d on the first step, else momentum·buf + d; w -= lr·buf.</summary>
    public static unsafe void Step(SgdSettings s, Span<float> weights, ReadOnlySpan<float> grads, Span<float> momentumBuffer, int decayedCount, bool firstStep)
    {
        if (grads.Length != weights.Length || momentumBuffer.Length != weights.Length)
            throw new ArgumentException($"sgd step: lengths differ (weights {weights.Length}, grads {grads.Length}, momentum {momentumBuffer.Length})");
        if ((uint)decayedCount > (uint)weights.Length)
            throw new ArgumentException($"sgd step: decayedCount must be in [0, {weights.Length}], got {decayedCount}");
        fixed (float* pw = weights, pg = grads, pb = momentumBuffer)
        {
            var (ws, gs, bs) = (new PinnedSpan<float>(pw, weights.Length), new PinnedSpan<float>(pg, grads.Length), new PinnedSpan<float>(pb, momentumBuffer.Length));
            const int block = ElementwiseHost.Block;
            HostThreads.For((ws.Length + block - 1) / block, b =>
            {
                int start = b * block, end = Math.Min(start + block, ws.Length);
                // The block splits where weight decay stops, so each part runs one loop with a constant decay.
                int split = Math.Clamp(decayedCount, start, end);
                Update(s, decay: true, ws.Slice(start, split - start), gs.Slice(start, split - start), bs.Slice(start, split - start), firstStep);
                Update(s, decay: false, ws.Slice(split, end - split), gs.Slice(split, end - split), bs.Slice(split, end - split), firstStep);
            });
        }
    }

    static void Update(SgdSettings s, bool decay, Span<float> w, ReadOnlySpan<float> g, Span<float> buffer, bool firstStep)
    {
        var body = new StepBody(s, decay, firstStep, w, g, buffer);
        Lanes.ForEach(w.Length, ref body);
    }

    ref struct StepBody(SgdSettings s, bool decay, bool firstStep, Span<float> w, ReadOnlySpan<float> g, Span<float> buffer) : ILaneBody
    {
        readonly Span<float> w = w, buffer = buffer;
        readonly ReadOnlySpan<float> g = g;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            var weight = T.Load(w, i);
            var d = decay ? T.MultiplyAdd(T.Broadcast(s.WeightDecay), weight, T.Load(g, i)) : T.Load(g, i);
            var b = firstStep ? d : T.MultiplyAdd(T.Broadcast(s.Momentum), T.Load(buffer, i), d);
            T.Store(b, buffer, i);
            T.Store(T.MultiplyAdd(T.Broadcast(-s.LearningRate), b, weight), w, i);
        }
    }
}
