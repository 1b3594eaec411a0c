using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The ILGPU form of <see cref="CrossEntropyKernels"/>: the loss in one group with a fixed summation tree.</summary>
internal static class CrossEntropyIlgpu
{
    static void ForwardKernel(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss, int classes)
    {
        // One group for the whole batch: each thread takes whole rows, then a fixed tree sums their losses.
        int n = labels.IntLength;
        float partial = 0f;
        for (int row = Group.IdxX, step = Group.DimX; row < n; row += step)
        {
            int start = row * classes;
            float max = logits[start];
            for (int j = 1; j < classes; j++) max = XMath.Max(max, logits[start + j]);
            float sumExp = 0f;
            for (int j = 0; j < classes; j++) sumExp += XMath.Exp(logits[start + j] - max);
            for (int j = 0; j < classes; j++) probs[start + j] = XMath.Exp(logits[start + j] - max) / sumExp;
            int label = labels[row];
            partial += label >= 0 && label < classes
                ? max + XMath.Log(sumExp) - logits[start + label]
                : float.NaN;
        }
        float total = GroupReduction.Sum(partial);
        if (Group.IdxX == 0) loss[0] = total / n;
    }

    static void BackwardKernel(ArrayView<float> probs, ArrayView<int> labels, ArrayView<float> glogits, int classes, float scale)
    {
        var at = Odometer.OfThread(classes);
        for (int i = GridLoop.Start, end = glogits.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            float onehot = labels[at.D1] == at.D0 ? 1f : 0f;
            glogits[i] = (probs[i] - onehot) * scale;
        }
    }

    static void CountCorrectKernel(ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct, int classes)
    {
        int local = 0;
        for (int row = GridLoop.Start, end = labels.IntLength, step = GridLoop.Stride; row < end; row += step)
        {
            int start = row * classes, best = 0;
            for (int j = 1; j < classes; j++)
                if (logits[start + j] > logits[start + best]) best = j; // strict: ties keep the first maximum
            if (best == labels[row]) local++;
        }
        // Integer addition is exact and associative, so the atomic total is the same on every run.
        if (local != 0) Atomic.Add(ref correct[0], local);
    }

    internal static void Forward(KernelContext k, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss) =>
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ForwardKernel)(
            k.GroupPerItem(1), new LaunchCost(5L * logits.Length, 2 * logits.Length * sizeof(float)), logits, labels, probs, loss, classes);

    internal static void Backward(KernelContext k, int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits) =>
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float>(BackwardKernel)(
            k.GridStride(glogits.Length), LaunchCost.Elementwise(glogits.Length, 2, 1, 1), probs, labels, glogits, classes, gradScale / n);

    internal static void CountCorrect(KernelContext k, int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct)
    {
        correct.MemSetToZero();
        k.Load<ArrayView<float>, ArrayView<int>, ArrayView<int>, int>(CountCorrectKernel)(
            k.GridStride(n), LaunchCost.Elementwise(logits.Length, 1, 1, 0), logits, labels, correct, classes);
    }
}
