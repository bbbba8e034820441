// The upload under way: a bar, bytes sent of the total, the rate, and Cancel.
import { memo } from "react";
import type { UploadState } from "./useUploader";

const MB = 1e6;

export const UploadProgress = memo(function UploadProgress({ upload, onCancel }: { upload: UploadState; onCancel: () => void }) {
  const seconds = (performance.now() - upload.started) / 1000;
  const rate = seconds > 0 ? upload.sent / MB / seconds : 0;
  return (
    <div className="upload-progress" role="status" data-testid="upload-progress">
      <div className="upload-name">Uploading {upload.name}</div>
      <progress max={upload.total || 1} value={upload.total ? upload.sent : 1} data-testid="upload-bar" />
      <div className="upload-numbers" data-testid="upload-numbers">
        {(upload.sent / MB).toFixed(1)} / {(upload.total / MB).toFixed(1)} MB · {rate.toFixed(1)} MB/s
      </div>
      <button className="small" onClick={onCancel} data-testid="upload-cancel">
        Cancel
      </button>
    </div>
  );
});
