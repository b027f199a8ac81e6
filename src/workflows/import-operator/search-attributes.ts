import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../../constants.js';
import type { ImportOperatorInput, ImportStatus } from '../types.js';

/** The keys a person filters imports by in the Web UI and `temporal workflow list --query`. */
const OPERATOR_ID = defineSearchAttributeKey(SEARCH_ATTRIBUTES.operatorId, SearchAttributeType.KEYWORD);
const IMPORT_MODE = defineSearchAttributeKey(SEARCH_ATTRIBUTES.importMode, SearchAttributeType.KEYWORD);
const IMPORT_STATUS = defineSearchAttributeKey(SEARCH_ATTRIBUTES.importStatus, SearchAttributeType.KEYWORD);

/** Shows the import's operator, mode and status to searches (`ImportStatus = 'paused'`, say). */
export function showImportStatus(input: ImportOperatorInput, status: ImportStatus): void {
  upsertSearchAttributes([
    { key: OPERATOR_ID, value: input.operatorId },
    { key: IMPORT_MODE, value: input.dryRun ? 'dry-run' : input.mode },
    { key: IMPORT_STATUS, value: status },
  ]);
}
