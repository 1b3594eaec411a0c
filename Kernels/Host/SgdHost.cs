namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="SgdKernels"/>: <see cref="SgdUpdate"/>'s lanes form over the flat parameter buffer.
/// Elements before decayedCount get weight decay, the rest (BN gamma/beta, biases) none; blocks run in parallel.
/// </summary>
internal static class SgdHost
{
    public static unsafe void Step(SgdUpdate update, Span<float> weights, ReadOnlySpan<float> grads, Span<float> momentumBuffer, int decayedCount)
    {
        fixed (float* pw = weights, pg = grads, pb = momentumBuffer)
        {
            var (ws, gs, bs) = (new PinnedSpan<float>(pw, weights.Length), new PinnedSpan<float>(pg, grads.Length), new PinnedSpan<float>(pb, momentumBuffer.Length));
            const int block = ElementwiseHost.Block;
            HostThreads.For((ws.Length + block - 1) / block, b =>
            {
                int start = b * block, end = Math.Min(start + block, ws.Length);
                // The block splits where weight decay stops, so each part runs one loop with a constant decay.
                int split = Math.Clamp(decayedCount, start, end);
                Update(update, decay: true, ws.Slice(start, split - start), gs.Slice(start, split - start), bs.Slice(start, split - start));
                Update(update, decay: false, ws.Slice(split, end - split), gs.Slice(split, end - split), bs.Slice(split, end - split));
            });
        }
    }

    static void Update(SgdUpdate update, bool decay, Span<float> w, ReadOnlySpan<float> g, Span<float> buffer)
    {
        var body = new StepBody(update, decay, w, g, buffer);
        Lanes.ForEach(w.Length, ref body);
    }

    ref struct StepBody(SgdUpdate update, bool decay, Span<float> w, ReadOnlySpan<float> g, Span<float> buffer) : ILaneBody
    {
        readonly Span<float> w = w, buffer = buffer;
        readonly ReadOnlySpan<float> g = g;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            var (weight, b) = update.Invoke(T.Load(w, i), T.Load(g, i), T.Load(buffer, i), decay);
            T.Store(b, buffer, i);
            T.Store(weight, w, i);
        }
    }
}
