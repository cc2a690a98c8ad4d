/** The node catalogue: every node kind, by its stable type id. */
import type { Catalogue, NodeKind } from '../src/graph/node-kind.ts';
import { imageInput } from './image-input.ts';
import { patchEmbed } from './patch-embed.ts';
import { positionEmbedding } from './position-embedding.ts';
import { swinBlock } from './swin-block.ts';
import { vitBlock } from './vit-block.ts';
import { mamSwinBlock } from './mam-swin-block.ts';
import { mamVitBlock } from './mam-vit-block.ts';
import { memoryMerging } from './memory-merging.ts';
import { memoryExpanding } from './memory-expanding.ts';
import { patchMerging } from './patch-merging.ts';
import { patchExpanding } from './patch-expanding.ts';
import { finalExpanding } from './final-expanding.ts';
import { skip } from './skip.ts';
import { layerNorm } from './layer-norm.ts';
import { segHead } from './seg-head.ts';
import { output } from './output.ts';
import { conv2d } from './conv2d.ts';
import { convBnRelu } from './conv-bn-relu.ts';
import { resnetRoot } from './resnet-root.ts';
import { maxPool } from './max-pool.ts';
import { bottleneck } from './bottleneck.ts';
import { zeroPad } from './zero-pad.ts';
import { daHead } from './da-head.ts';
import { positionEmbeddingMap } from './position-embedding-map.ts';
import { transUnetBlock } from './transunet-block.ts';
import { mamTransUnetBlock } from './mam-transunet-block.ts';
import { tokensToMap } from './tokens-to-map.ts';
import { cupBlock } from './cup-block.ts';
import {
  conv3dKind,
  convTranspose3dKind,
  hiddenNorm3d,
  patchEmbed3d,
  unetResBlock,
  unetrBasicBlock,
  unetrUpBlock,
} from './vol3d-cnn.ts';
import { mamSwin3dBlock, nnformerKvBlock, patchMerging3d, swin3dBlock } from './swin3d-block.ts';
import { nnformerExpanding, nnformerHead, nnformerMerging, nnformerStem } from './nnformer-3d.ts';

export const nodeKinds: readonly NodeKind[] = [
  imageInput,
  patchEmbed,
  positionEmbedding,
  swinBlock,
  mamSwinBlock,
  vitBlock,
  mamVitBlock,
  transUnetBlock,
  mamTransUnetBlock,
  patchMerging,
  patchExpanding,
  finalExpanding,
  memoryMerging,
  memoryExpanding,
  skip,
  layerNorm,
  segHead,
  resnetRoot,
  maxPool,
  bottleneck,
  zeroPad,
  conv2d,
  convBnRelu,
  positionEmbeddingMap,
  tokensToMap,
  daHead,
  cupBlock,
  patchEmbed3d,
  swin3dBlock,
  mamSwin3dBlock,
  patchMerging3d,
  hiddenNorm3d,
  conv3dKind,
  convTranspose3dKind,
  unetrBasicBlock,
  unetResBlock,
  unetrUpBlock,
  nnformerStem,
  nnformerMerging,
  nnformerExpanding,
  nnformerKvBlock,
  nnformerHead,
  output,
];

export const catalogue: Catalogue = new Map(nodeKinds.map((k) => [k.type, k]));

export const getKind = (type: string): NodeKind | undefined => catalogue.get(type);
