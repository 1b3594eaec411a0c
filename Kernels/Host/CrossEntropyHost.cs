namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="CrossEntropyKernels"/>: softmax cross-entropy with mean reduction over logits [N, K]. K is the
/// class count (10 here), too short for vector lanes to pay, so rows are scalar and serial; the loss sums rows in order.
/// A label outside [0, K) gives its row a NaN loss and no one-hot term, as in the ILGPU kernels.
/// </summary>
internal static class CrossEntropyHost
{
    /// <summary>probs = softmax(logits) per row; returns the mean over rows of logsumexp - logit[label].</summary>
    public static float Forward(int n, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probs)
    {
        float total = 0f;
        for (int row = 0; row < n; row++)
        {
            var rowLogits = logits.Slice(row * classes, classes);
            var rowProbs = probs.Slice(row * classes, classes);
            float max = rowLogits[0];
            for (int j = 1; j < classes; j++) max = MathF.Max(max, rowLogits[j]);
            float sumExp = 0f;
            for (int j = 0; j < classes; j++) sumExp += rowProbs[j] = MathF.Exp(rowLogits[j] - max);
            for (int j = 0; j < classes; j++) rowProbs[j] /= sumExp;
            int label = labels[row];
            total += label >= 0 && label < classes ? max + MathF.Log(sumExp) - rowLogits[label] : float.NaN;
        }
        return total / n;
    }

    /// <summary>glogits = (probs - onehot(label)) * gradScale / N (overwritten).</summary>
    public static void Backward(int n, int classes, ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, float gradScale, Span<float> glogits)
    {
        float scale = gradScale / n;
        for (int i = 0; i < glogits.Length; i++)
            glogits[i] = (probs[i] - (labels[i / classes] == i % classes ? 1f : 0f)) * scale;
    }

    /// <summary>The number of rows whose first maximal logit is at the label.</summary>
    public static int CountCorrect(int n, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        int correct = 0;
        for (int row = 0; row < n; row++)
        {
            int start = row * classes, best = 0;
            for (int j = 1; j < classes; j++)
                if (logits[start + j] > logits[start + best]) best = j; // strict: ties keep the first maximum
            if (best == labels[row]) correct++;
        }
        return correct;
    }
}
