namespace RevNetIlgpu.RevNet.Training;

/// <summary>SGD hyperparameters as PyTorch names them (dampening 0, not Nesterov); weight decay applies to conv and linear weights only.</summary>
/// <param name="LearningRate">the step size (a schedule changes it step by step)</param>
/// <param name="Momentum">the velocity's decay, in [0, 1)</param>
/// <param name="WeightDecay">the L2 penalty's coefficient, added to the gradient of decayed weights</param>
public readonly record struct SgdSettings(float LearningRate, float Momentum, float WeightDecay);
