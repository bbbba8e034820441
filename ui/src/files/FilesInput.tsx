import type { RefObject } from "react";

/** The hidden file picker behind an "Upload" button: hands over the files chosen, and clears itself so the
 * same file can be chosen again. */
export function FilesInput({ inputRef, testId, onFiles }: {
  inputRef: RefObject<HTMLInputElement | null>;
  testId: string;
  onFiles: (files: File[]) => void;
}) {
  return (
    <input
      ref={inputRef}
      type="file"
      multiple
      hidden
      data-testid={testId}
      onChange={(e) => {
        const files = Array.from(e.target.files ?? []);
        e.target.value = "";
        if (files.length) onFiles(files);
      }}
    />
  );
}
