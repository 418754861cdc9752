// @ragrpo/gguf: llama.cpp GGUF files (Llama/Qwen2 decoders, float or quantized) imported as Hugging Face
// model folders the engine loads: config, F32 safetensors, tokenizer files with the chat template.
export { importGguf, type ImportGgufOptions, type ImportGgufResult, type ImportProgress } from './import-gguf.ts';
export { readGguf, ggmlTypeName, Metadata, type GgufFile, type GgufTensor, type GgufValue } from './read-gguf.ts';
export { dequantize, ggmlType, tensorByteLength, SUPPORTED_GGML_TYPES, type GgmlTypeInfo } from './dequantize.ts';
export { buildConfig, llama3RopeFactors, GGUF_ARCHITECTURES, type GgufArchitecture, type ImportedConfig } from './gguf-config.ts';
export { buildTokenizer, SUPPORTED_PRE_TOKENIZERS, type ImportedTokenizer } from './gguf-tokenizer.ts';
export { hfTensorName, unpermuteRotary, NON_WEIGHT_TENSORS } from './tensor-map.ts';
export { writeF32Safetensors, type PlannedTensor } from './stream-safetensors.ts';
export { GgufError } from './errors.ts';
