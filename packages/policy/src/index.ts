// @ragrpo/policy: the policy model folder of a pipeline: a local folder, a Hugging Face hub download
// (policy.allow_remote), or a scratch model built by @ragrpo/model.

// hub download
export {
  downloadModel,
  downloadTempName,
  isHubModelId,
  ModelDownloadError,
  DEFAULT_HUB_ENDPOINT,
  type DownloadModelOptions,
  type DownloadProgress,
} from './hub/download-model.ts';
export { resolveModelFolder, type ResolveModelFolderOptions, type ResolvedModelFolder } from './hub/resolve-model-folder.ts';
export { checkFile, sha256File, gitBlobSha1File, type ExpectedFile } from './hub/file-checks.ts';

// the stage
export { buildPolicyRecord, type RecordInput } from './record/build-record.ts';
export { buildScratchPolicy, trainingTexts } from './scratch-policy.ts';
export { policyStage } from './stage.ts';
