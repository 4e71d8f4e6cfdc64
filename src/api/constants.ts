// Exact strings of the original kube-fledged (pkg/apis/kubefledged/v1alpha2/types.go).
// Typos included: status readers depend on them.

export const Status = {
  Processing: 'Processing',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Unknown: 'Unknown',
  Aborted: 'Aborted',
  NoImagesPulledOrDeleted: 'NoImagesPulledOrDeleted',
} as const;
export type StatusValue = (typeof Status)[keyof typeof Status];

export const Reason = {
  ImageCacheCreate: 'ImageCacheCreate',
  ImageCacheUpdate: 'ImageCacheUpdate',
  ImageCacheRefresh: 'ImageCacheRefresh',
  ImageCachePurge: 'ImageCachePurge',
  ImageCacheDelete: 'ImageCacheDelete',
  ImagesPulledSuccessfully: 'ImagesPulledSuccessfully',
  ImagesDeletedSuccessfully: 'ImagesDeletedSuccessfully',
  ImagePullFailedForSomeImages: 'ImagePullFailedForSomeImages',
  ImageDeleteFailedForSomeImages: 'ImageDeleteFailedForSomeImages',
  ImagePullFailedOnSomeNodes: 'ImagePullFailedOnSomeNodes',
  ImagePullStatusUnknown: 'ImagePullStatusUnknown',
  ImagePullAborted: 'ImagePullAborted',
  CacheSpecValidationFailed: 'CacheSpecValidationFailed',
  OldImageCacheNotFound: 'OldImageCacheNotFound',
  NotSupportedUpdates: 'NotSupportedUpdates',
} as const;

export const Message = {
  PullingImages: 'Images are being pulled on to the nodes. Please view the status after some time',
  UpdatingCache: 'Image cache is being updated. Please view the status after some time',
  RefreshingCache: 'Image cache is being refreshed. Please view the status after some time',
  PurgeCache: 'Image cache is being purged. Please view the status after some time',
  DeletingImages: 'Images in the cache are being deleted. Please view the status after some time',
  ImagesPulledSuccessfully: 'All requested images pulled succesfully to respective nodes',
  ImagesDeletedSuccessfully: 'All cached images succesfully deleted from respective nodes',
  ImagePullFailedForSomeImages: 'Image pull failed for some images. Please see "failures" section',
  ImageDeleteFailedForSomeImages: 'Image deletion failed for some images. Please see "failures" section',
  ImagePullFailedOnSomeNodes: 'Image pull failed on some nodes. Please see "failures" section',
  ImagePullStatusUnknown:
    'Unable to get the status of Image pull. Retry after some time or contact cluster administrator',
  ImagePullAborted: 'Image cache processing aborted. Image cache will get refreshed during next refresh cycle',
  OldImageCacheNotFound: 'Unable to fetch the previous version of Image cache spec before update action.',
  NotSupportedUpdates:
    'The updates performed to image cache spec is not supported. Only addition or removal of images in a image list is supported.',
  NoImagesPulledOrDeleted: 'No images were pulled or deleted because nodeSelector specified did not match any nodes',
  /** This project's: the selector matched nodes, but every one was skipped (cordoned, NotReady, platform). */
  AllSelectedNodesSkipped: 'No images were pulled or deleted because every node the cache selects was skipped. Please see "skippedNodes"',
} as const;

export const Annotation = {
  Refresh: 'kubefledged.io/refresh-imagecache',
  Purge: 'kubefledged.io/purge-imagecache',
} as const;

/** Labels on every Job and pod the controller creates. */
export const JobLabel = {
  App: 'app',
  AppValue: 'kubefledged',
  Kubefledged: 'kubefledged',
  KubefledgedValue: 'kubefledged-image-manager',
  ImageCache: 'imagecache',
  Controller: 'controller',
  ControllerValue: 'fledged',
} as const;

/** Label selector that finds every Job/pod of the image manager. */
export const IMAGE_MANAGER_SELECTOR = `${JobLabel.App}=${JobLabel.AppValue},${JobLabel.Kubefledged}=${JobLabel.KubefledgedValue}`;

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Admission webhook denial messages of the original (spec §4.3, §4.6). */
export const WebhookMessage = {
  NoImages: 'No images specified within image list',
  DuplicateImages: 'Duplicate image names within image list',
  MismatchImageLists: 'Mismatch in no. of image lists',
  MismatchNodeSelector: 'Mismatch in node selector',
  UnderProcessing: 'Previous image cache operation under processing. New operation not allowed now',
} as const;

export const DEFAULT_NAMESPACE = 'kube-fledged';
/** The project's one image (every entrypoint), tagged with the chart's appVersion (kept equal by a unit test). */
export const DEFAULT_CRI_CLIENT_IMAGE = 'docker.io/kubefledgedts/kube-fledged:v0.11.0';
export const DEFAULT_BUSYBOX_IMAGE = 'senthilrch/busybox:1.35.0';

/**
 * The startup taint of "warm before work": a node that registers with it (kubelet --register-with-taints,
 * or the node pool's config) gets the images of every cache that selects it before the controller removes
 * the taint, so application pods do not land on a cold node. Pull pods always tolerate it.
 */
export const WARMING_TAINT_KEY = 'kubefledged.io/warming';
