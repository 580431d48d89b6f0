import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { checkFormat, type FormatName } from './formats.js';

/** A route parameter checked against one of FORMATS; the error names the parameter (`sn must be ...`, `id must be a UUID`). */
abstract class FormatPipe implements PipeTransform<unknown, string> {
  protected abstract readonly format: FormatName;

  transform(value: unknown, metadata: ArgumentMetadata): string {
    return checkFormat(this.format, metadata.data ?? this.format, value);
  }
}

/** `@Param('sn', SnParam) sn: string`: 400 VALIDATION_FAILED unless it is an appliance SN. */
@Injectable()
export class SnParam extends FormatPipe {
  protected readonly format = 'sn';
}

/** `@Param('id', UuidParam) id: string`: 400 VALIDATION_FAILED unless it is a UUID. */
@Injectable()
export class UuidParam extends FormatPipe {
  protected readonly format = 'uuid';
}

/** `@Param('model', ModelParam) model: string`: 400 VALIDATION_FAILED unless it is an appliance model name. */
@Injectable()
export class ModelParam extends FormatPipe {
  protected readonly format = 'model';
}
